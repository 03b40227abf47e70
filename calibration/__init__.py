"""Camera geometry: checkerboard intrinsics, the ground plane and the calibration files.

Uses OpenCV and numpy only; never imports torch or Qt.
"""
