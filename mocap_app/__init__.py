"""mocap_app: real-time monocular multi-person motion capture.

The pipeline (sources, Stage I backends, Stage II, tracking, fitting, takes, BVH, CLI) lives here;
networks are defined in ``models``, run by ``engines``, calibrated by ``calibration`` and shown by
``ui``. Units and axes are fixed once in :mod:`mocap_app.conventions`.
"""

__version__ = "0.1.0"
