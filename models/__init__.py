"""What each network is: torch definitions, weight import, training loops and ONNX export.

Only training and export import this package; the inference path (``mocap run``, the GUI) never
does, because it must not need torch.
"""
