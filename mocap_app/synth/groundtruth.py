"""Ground truth of a rendered clip: what each performer's joints were, in pixels, camera and world.

A clip folder holds ``scene.json`` (camera intrinsics and pose, floor plane, frame rate, joint
sets, performers, stage) and ``truth.jsonl``, one JSON object per frame:

.. code-block:: text

    {"frame": 0, "time_s": 0.0, "performers": [
        {"id": 0, "bbox_visible": [x0, y0, x1, y1], "bbox_full": [...], "pixels_visible": 5231,
         "rig22":       {"pixels": [[u, v], ...], "camera": [[x, y, z], ...], "world": [[x, y, z], ...],
                         "visibility": [2, ...]},
         "blazepose33": {... the same four arrays ...}}]}

Pixels follow OpenCV's convention; camera coordinates are OpenCV's (x right, y down, z forward),
world coordinates are y up with the floor at y = 0, all in metres. Visibility is COCO's: 0 outside
the image (or behind the camera), 1 inside but hidden (by another performer or the own body), 2 seen.
Boxes are ``null`` for a performer outside the image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import MocapError
from ..skeletons import BLAZEPOSE33, RIG
from .camera import VirtualCamera
from .render import RenderResult

FORMAT_NAME = "mocap-synth-clip"
FORMAT_VERSION = 1
SCENE_FILE = "scene.json"
TRUTH_FILE = "truth.jsonl"
VIDEO_FILE = "video.mp4"
CALIBRATION_FILE = "calibration.json"
#: Joint sets written per performer, with how far in front of a joint the covering surface may be
#: before the joint counts as hidden (rig joints sit inside limbs; BlazePose landmarks on the skin), metres.
JOINT_SETS = {RIG.name: 0.20, BLAZEPOSE33.name: 0.05}
_DECIMALS = {"pixels": 2, "camera": 4, "world": 4}


def joint_visibility(pixels: np.ndarray, depth: np.ndarray, performer: int, render: RenderResult,
                     tolerance_m: float) -> np.ndarray:
    """COCO visibility (0 outside, 1 hidden, 2 seen) of one performer's joints in one rendered frame.

    Args:
        pixels: (J, 2) projected joints, pixels (NaN behind the camera).
        depth: (J,) camera-space z of the joints, metres.
        performer: index of the performer (its id in ``render.ids`` is ``performer + 1``).
        render: the frame's render with its id and depth buffers.
        tolerance_m: how far in front of the joint the nearest surface may be while it counts as seen.
    """
    h, w = render.ids.shape
    result = np.zeros(len(pixels), dtype=np.int64)
    finite = np.all(np.isfinite(pixels), axis=1)
    cols = np.full(len(pixels), -1)
    rows = np.full(len(pixels), -1)
    cols[finite] = np.floor(pixels[finite, 0] + 0.5).astype(int)
    rows[finite] = np.floor(pixels[finite, 1] + 0.5).astype(int)
    inside = finite & (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    result[inside] = 1
    r, c = rows[inside], cols[inside]
    seen = (render.ids[r, c] == performer + 1) & (render.depth[r, c] >= depth[inside] - tolerance_m)
    result[np.flatnonzero(inside)[seen]] = 2
    return result


def _box(points: np.ndarray, width: int, height: int) -> list[float] | None:
    points = points[np.all(np.isfinite(points), axis=1)]
    if len(points) == 0:
        return None
    x0, y0 = np.clip(points.min(axis=0), 0, [width - 1, height - 1])
    x1, y1 = np.clip(points.max(axis=0), 0, [width - 1, height - 1])
    if x1 <= x0 or y1 <= y0:
        return None
    return [round(float(v), 1) for v in (x0, y0, x1, y1)]


@dataclass(frozen=True, eq=False)
class PerformerTruth:
    """One performer's truth in one frame (world positions of each joint set)."""

    joints_world: dict[str, np.ndarray]
    mesh_vertices: np.ndarray


def frame_record(frame: int, time_s: float, camera: VirtualCamera, truths: list[PerformerTruth],
                 render: RenderResult) -> dict:
    """The JSON object of one frame of ``truth.jsonl`` (see the module docstring)."""
    performers = []
    for index, truth in enumerate(truths):
        mask_rows, mask_cols = np.nonzero(render.ids == index + 1)
        visible_box = (_box(np.stack([mask_cols, mask_rows], axis=1).astype(np.float64), camera.width, camera.height)
                       if len(mask_rows) else None)
        entry: dict = {"id": index, "bbox_visible": visible_box,
                       "bbox_full": _box(camera.project(truth.mesh_vertices), camera.width, camera.height),
                       "pixels_visible": int(len(mask_rows))}
        for name, tolerance in JOINT_SETS.items():
            world = truth.joints_world[name]
            cam = camera.world_to_camera(world)
            pixels = camera.project_camera(cam)
            arrays = {"pixels": pixels, "camera": cam, "world": world}
            entry[name] = {key: np.round(value, _DECIMALS[key]).tolist() for key, value in arrays.items()}
            entry[name]["visibility"] = joint_visibility(pixels, cam[:, 2], index, render, tolerance).tolist()
        performers.append(entry)
    record = {"frame": frame, "time_s": round(time_s, 6), "performers": performers}
    return json.loads(json.dumps(record).replace("NaN", "null"))


def scene_record(camera: VirtualCamera, fps: float, num_frames: int, performers: list[dict], stage: dict) -> dict:
    """The JSON object of ``scene.json``: camera, floor, timing, joint sets, performers and stage."""
    normal, d = camera.floor_plane_camera()
    return {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "fps": fps, "num_frames": num_frames,
        "image_size": [camera.width, camera.height],
        "camera": {"K": camera.K.tolist(), "dist_coeffs": [0.0] * 5, "rotation_wc": camera.rotation_wc.tolist(),
                   "centre_world": camera.centre.tolist()},
        "floor_plane_camera": {"normal": normal.tolist(), "d": d},
        "joint_sets": {name: list((RIG if name == RIG.name else BLAZEPOSE33).joints) for name in JOINT_SETS},
        "performers": performers, "stage": stage,
        "files": {"video": VIDEO_FILE, "truth": TRUTH_FILE, "calibration": CALIBRATION_FILE},
    }


def write_jsonl_line(stream: IO[str], record: dict) -> None:
    """Append one record as a line and flush, so an interrupted render keeps every finished frame."""
    stream.write(json.dumps(record, separators=(",", ":")) + "\n")
    stream.flush()


@dataclass(frozen=True, eq=False)
class ClipTruth:
    """A rendered clip's truth as arrays (the reader's view of ``truth.jsonl``).

    Attributes:
        scene: the parsed ``scene.json``.
        pixels, camera, world: joint set name -> (F, P, J, 2 or 3) float64 (NaN where unknown).
        visibility: joint set name -> (F, P, J) int.
        boxes: (F, P, 4) visible boxes x0, y0, x1, y1 (NaN when not in view).
    """

    scene: dict
    pixels: dict[str, np.ndarray]
    camera: dict[str, np.ndarray]
    world: dict[str, np.ndarray]
    visibility: dict[str, np.ndarray]
    boxes: np.ndarray

    @property
    def K(self) -> np.ndarray:
        return np.array(self.scene["camera"]["K"])


def read_clip_truth(folder: str | Path) -> ClipTruth:
    """Load ``scene.json`` and ``truth.jsonl`` of a clip folder written by ``mocap synth``.

    Raises:
        FileNotFoundError: the folder lacks the files.
        MocapError: they are not a synth clip's truth.
    """
    folder = Path(folder)
    scene_path, truth_path = folder / SCENE_FILE, folder / TRUTH_FILE
    for path in (scene_path, truth_path):
        if not path.is_file():
            raise FileNotFoundError(f"No {path.name} in {folder}; render a clip there with 'mocap synth'.")
    scene = json.loads(scene_path.read_text(encoding="utf-8"))
    if scene.get("format") != FORMAT_NAME:
        raise MocapError(f"{scene_path} is not a {FORMAT_NAME} file (format {scene.get('format')!r}).")
    frames = [json.loads(line) for line in truth_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    count = len(scene["performers"])
    out: dict[str, dict[str, np.ndarray]] = {"pixels": {}, "camera": {}, "world": {}, "visibility": {}}
    for name, joints in scene["joint_sets"].items():
        for key, dim in (("pixels", 2), ("camera", 3), ("world", 3)):
            out[key][name] = np.full((len(frames), count, len(joints), dim), np.nan)
        out["visibility"][name] = np.zeros((len(frames), count, len(joints)), dtype=np.int64)
    boxes = np.full((len(frames), count, 4), np.nan)
    for f, record in enumerate(frames):
        for performer in record["performers"]:
            p = performer["id"]
            if performer["bbox_visible"] is not None:
                boxes[f, p] = performer["bbox_visible"]
            for name in scene["joint_sets"]:
                for key in ("pixels", "camera", "world"):
                    out[key][name][f, p] = np.array(performer[name][key], dtype=np.float64)
                out["visibility"][name][f, p] = performer[name]["visibility"]
    return ClipTruth(scene=scene, boxes=boxes, **out)
