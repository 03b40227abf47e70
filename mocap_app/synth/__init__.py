"""Synthetic performers: procedural figures driven by motion capture, rendered offscreen with exact truth.

``motion`` turns BVH takes into rig joint positions, ``body`` builds the figure around them,
``appearance`` and ``scene`` pick looks and stages, ``camera`` places the pinhole camera, ``render``
draws with OpenGL (moderngl on EGL, software rendering is enough), ``groundtruth`` writes and reads
the per-frame truth, ``clip`` renders a clip (``mocap synth``), ``dataset`` writes COCO-format
training images and ``board`` a checkerboard calibration session.
"""
