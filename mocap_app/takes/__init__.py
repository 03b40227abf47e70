"""Takes: crash-safe journals of motion frames and their export to BVH."""
