"""XNect inference in numpy: Stage I map decoding, PAF grouping and the Stage II input layout."""
