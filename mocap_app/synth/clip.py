"""Render a clip of synthetic performers with its ground truth: the work behind ``mocap synth``.

A clip folder gets ``video.mp4`` (optionally also ``frames/NNNNNN.png``), ``truth.jsonl`` and
``scene.json`` (see :mod:`~mocap_app.synth.groundtruth`), and ``calibration.json``, the exact camera
in the calibration file format so the pipeline can be run calibrated.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..progress import Progress
from ..skeletons import BLAZEPOSE33, RIG
from .appearance import Appearance
from .body import build_body, surface_landmarks
from .camera import VirtualCamera, look_at_camera
from .groundtruth import (
    CALIBRATION_FILE,
    SCENE_FILE,
    TRUTH_FILE,
    VIDEO_FILE,
    PerformerTruth,
    frame_record,
    scene_record,
    write_jsonl_line,
)
from .motion import PerformerMotion
from .render import Renderer
from .scene import Stage

logger = logging.getLogger(__name__)

#: Camera distance chosen automatically never goes below this (the issue's validated set-up), metres.
MIN_AUTO_DISTANCE_M = 3.6
#: Fraction of the image kept free around the performers when the distance is chosen automatically.
FRAME_MARGIN = 0.06
VIDEO_FOURCC = "mp4v"


@dataclass(frozen=True)
class CameraSpec:
    """Where the virtual camera stands; ``distance_m=None`` backs off until every frame fits.

    Attributes:
        width, height: resolution, pixels.
        distance_m: horizontal distance from the performers' centre, metres (None: automatic).
        height_m: camera height above the floor, metres.
        yaw_deg: angle around the performers; 0 faces a performer who faces +z.
        vertical_fov_deg: vertical field of view (sets the focal length).
        target_height_m: height of the point the camera looks at, metres.
    """

    width: int = 1280
    height: int = 720
    distance_m: float | None = None
    height_m: float = 1.3
    yaw_deg: float = 0.0
    vertical_fov_deg: float = 54.0
    target_height_m: float = 1.0


@dataclass(frozen=True)
class ClipSummary:
    """What a render produced and how fast."""

    folder: Path
    frames: int
    seconds: float
    camera: VirtualCamera
    performers: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def seconds_per_frame(self) -> float:
        return self.seconds / max(self.frames, 1)


def _fits(camera: VirtualCamera, points: np.ndarray) -> bool:
    uv = camera.project(points)
    if not np.all(np.isfinite(uv)):
        return False
    mx, my = FRAME_MARGIN * camera.width, FRAME_MARGIN * camera.height
    return bool(np.all((uv[:, 0] > mx) & (uv[:, 0] < camera.width - mx) & (uv[:, 1] > my)
                       & (uv[:, 1] < camera.height - my)))


def place_camera(spec: CameraSpec, motions: list[PerformerMotion]) -> VirtualCamera:
    """The camera of ``spec``; with an automatic distance, the nearest (>= 3.6 m) that frames every joint."""
    def make(distance: float) -> VirtualCamera:
        return look_at_camera((0.0, spec.target_height_m, 0.0), distance, spec.height_m, spec.yaw_deg,
                              spec.width, spec.height, spec.vertical_fov_deg)

    if spec.distance_m is not None:
        return make(spec.distance_m)
    points = np.concatenate([m.poses[:: max(1, m.num_frames // 60)].reshape(-1, 3) for m in motions])
    distance = MIN_AUTO_DISTANCE_M
    while distance < 30.0 and not _fits(make(distance), points):
        distance += 0.2
    return make(distance)


def calibration_for(camera: VirtualCamera):  # -> calibration.camera_file.CameraCalibration
    """The exact calibration of a virtual camera in the calibration file format (floor included)."""
    from calibration.camera_file import CameraCalibration
    from calibration.ground import GroundPlane

    ground = GroundPlane(rotation_wc=camera.rotation_wc.copy(), camera_centre_world=camera.centre.copy(), rms_px=0.0)
    return CameraCalibration((camera.width, camera.height), camera.K.copy(), np.zeros(5), "checkerboard",
                             rms_px=0.0, board="synthetic camera (exact ground truth)", views=0, ground=ground)


class VideoSink:
    """Writes RGB frames to an mp4 file and, optionally, to numbered PNGs."""

    def __init__(self, folder: Path, width: int, height: int, fps: float, png: bool = False) -> None:
        self.path = folder / VIDEO_FILE
        self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC), fps, (width, height))
        if not self.writer.isOpened():
            raise OSError(f"OpenCV cannot write {self.path} with codec {VIDEO_FOURCC}.")
        self.png_folder = folder / "frames" if png else None
        if self.png_folder is not None:
            self.png_folder.mkdir(exist_ok=True)
        self.count = 0

    def write(self, rgb: np.ndarray) -> None:
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        self.writer.write(bgr)
        if self.png_folder is not None:
            cv2.imwrite(str(self.png_folder / f"{self.count:06d}.png"), bgr)
        self.count += 1

    def close(self) -> None:
        self.writer.release()


def render_clip(folder: str | Path, motions: list[PerformerMotion], looks: list[Appearance], stage: Stage,
                camera: VirtualCamera, png: bool = False, renderer: Renderer | None = None) -> ClipSummary:
    """Render performers frame by frame into ``folder`` with their truth.

    Args:
        folder: output folder (created).
        motions: one arranged motion per performer, all at the same frame rate and length.
        looks: one appearance per performer (the one the motion was retargeted with).
        stage: floor, walls and lights.
        camera: the virtual camera.
        png: also write every frame as a PNG.
        renderer: reuse an existing renderer (else one is created and closed).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fps = motions[0].fps
    count = min(m.num_frames for m in motions)
    own = renderer is None
    renderer = renderer or Renderer()
    renderer.set_stage(stage)
    performers = [{"id": i, "source": m.source, "appearance": look.to_json()}
                  for i, (m, look) in enumerate(zip(motions, looks, strict=True))]
    (folder / SCENE_FILE).write_text(json.dumps(scene_record(camera, fps, count, performers, stage.describe()),
                                                indent=1), encoding="utf-8")
    calibration_for(camera).save(folder / CALIBRATION_FILE)
    sink = VideoSink(folder, camera.width, camera.height, fps, png)
    start = time.perf_counter()
    try:
        with open(folder / TRUTH_FILE, "w", encoding="utf-8") as truth_file, \
                Progress(total=count, label="render", unit="frames") as bar:
            for f in range(count):
                bodies, truths = [], []
                for motion, look in zip(motions, looks, strict=True):
                    body = build_body(motion.poses[f], look)
                    bodies.append(body)
                    truths.append(PerformerTruth(
                        joints_world={RIG.name: motion.poses[f, :RIG.num_joints],
                                      BLAZEPOSE33.name: surface_landmarks(motion.poses[f], look)},
                        mesh_vertices=body.positions.astype(np.float64)))
                result = renderer.render(camera, bodies)
                sink.write(result.image)
                write_jsonl_line(truth_file, frame_record(f, f / fps, camera, truths, result))
                bar.update()
    finally:
        sink.close()
        if own:
            renderer.close()
    seconds = time.perf_counter() - start
    logger.info("rendered %d frames in %.1f s (%.3f s/frame)", count, seconds, seconds / max(count, 1))
    return ClipSummary(folder=folder, frames=count, seconds=seconds, camera=camera, performers=len(motions))
