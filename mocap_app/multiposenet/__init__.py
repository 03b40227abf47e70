"""MultiPoseNet's pipeline side (numpy only, no torch): synthetic crowds from motion capture, the
Pose Residual Network's input crops and keypoint-to-person assignment, its OKS-AP evaluation, and
decoding of the image network's heatmaps and person boxes into COCO-17 observations.
"""
