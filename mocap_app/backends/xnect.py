"""The ``xnect`` backend: one Stage I pass over the whole frame for everyone, then Stage II per person.

Per frame: letterbox to the Stage I input size (512x320 by default), run Stage I (ONNX Runtime),
decode people from heatmaps + PAFs and read their 3D encodings (:mod:`mocap_app.xnect.decode`),
then run Stage II once for all people as one batch. Stage I's cost does not depend on the number
of people; decode and Stage II grow slowly with it.

Output per person (:class:`~mocap_app.types.Observation`, joint set ``vnect21``): 2D of the 17
Stage I joints in image pixels (hands and foot tips NaN, confidence 0: Stage I has no such maps),
confidence = heatmap peak value, 3D = Stage II's root-relative joints in metres, camera axes.

Weights: Stage II ships with the package (trained on simulated Stage I outputs, see the README);
Stage I must be trained (``mocap train xnect-stage1``) or imported (``mocap weights import``) into
the model store, else :class:`~mocap_app.errors.WeightsMissingError` says so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engines.engine import Engine, load_engine

from ..errors import ModelContractError, WeightsMissingError
from ..models_store import engine_dir, retrained_or_packaged
from ..skeletons import get_skeleton
from ..skeletons.xnect import STAGE1_SET, STAGE2_SET
from ..types import Frame, FrameObservations, Observation
from ..xnect.decode import DecodeConfig, group_people, map_to_image
from ..xnect.features import stage2_features

logger = logging.getLogger(__name__)

TIMING_KEYS = ("preprocess", "stage1", "decode", "stage2")
#: The Stage II network shipped inside the package.
PACKAGED_STAGE2 = Path(__file__).resolve().parents[1] / "xnect" / "stage2.onnx"
STAGE1_HINT = ("no Stage I weights: train with 'mocap train xnect-stage1 ...' or import with "
               "'mocap weights import xnect-stage1 CHECKPOINT.pt' (see README, 'XNect engine')")


def xnect_dir(root: Path | None = None) -> Path:
    """The XNect folder of the model store (``stage1.onnx``, checkpoints, imported backbones)."""
    return engine_dir("xnect", root)


def stage_paths(root: Path | None = None) -> dict[str, Path]:
    """Stage I (model store) and Stage II (model store if retrained there, else the packaged one)."""
    folder = xnect_dir(root)
    return {"stage1": folder / "stage1.onnx", "stage2": retrained_or_packaged(folder, "stage2.onnx", PACKAGED_STAGE2)}


@dataclass(frozen=True)
class XNectConfig:
    """Knobs of the backend: most people kept, decoding thresholds, engine device and threads."""

    max_people: int = 10
    decode: DecodeConfig = DecodeConfig()
    device: str = "cpu"
    threads: int | None = None


class XNectBackend:
    """Stage I + Stage II backend.

    Example:
        >>> backend = XNectBackend.from_store()  # doctest: +SKIP
        >>> observations = backend(frame)  # doctest: +SKIP
    """

    name = "xnect"

    def __init__(self, stage1: Engine, stage2: Engine, config: XNectConfig | None = None) -> None:
        self.stage1, self.stage2, self.config = stage1, stage2, config or XNectConfig()
        for engine, key, expected in ((stage1, "keypoint_schema", STAGE1_SET.name),
                                      (stage2, "input_schema", STAGE1_SET.name),
                                      (stage2, "keypoint_schema", STAGE2_SET.name)):
            if engine.sidecar.get(key) != expected:
                raise ModelContractError(f"{engine.path}: sidecar {key} is {engine.sidecar.get(key)!r}, the xnect "
                                         f"backend needs {expected!r}. Re-export it with this version.")
        width, height = stage1.sidecar["input"]["size"]
        self.input_size = (int(width), int(height))
        self.stride = int(stage1.sidecar["output_stride"])
        self.mean = np.array(stage1.sidecar["input"]["mean"], np.float32)
        self.std = np.array(stage1.sidecar["input"]["std"], np.float32)
        self._to_output = get_skeleton(STAGE2_SET.name).indices(list(STAGE1_SET.joints))

    @classmethod
    def from_store(cls, root: Path | None = None, max_people: int = 10, threads: int | None = None,
                   device: str = "cpu", **_ignored: object) -> XNectBackend:
        """Load both stages; ``WeightsMissingError`` naming how to get Stage I when it is absent.

        Options of other backends (e.g. ``detect_interval``) are accepted and ignored: XNect has no detector.
        """
        paths = stage_paths(root)
        if not paths["stage1"].is_file():
            raise WeightsMissingError(f"{STAGE1_HINT}; looked for {paths['stage1']}.")
        config = XNectConfig(max_people=max_people, device=device, threads=threads)
        return cls(load_engine(paths["stage1"], device=device, threads=threads),
                   load_engine(paths["stage2"], device=device, threads=threads), config)

    @property
    def provider(self) -> str:
        return self.stage1.provider

    def reset(self) -> None:
        """Nothing to forget: every frame is processed on its own."""

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """BGR frame -> (1, 3, H, W) normalised letterboxed input, and the scale input px / image px."""
        width, height = self.input_size
        scale = min(width / image.shape[1], height / image.shape[0])
        resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                             interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        canvas = np.zeros((height, width, 3), np.float32)
        canvas[:resized.shape[0], :resized.shape[1]] = resized[..., ::-1] / np.float32(255.0)
        canvas = (canvas - self.mean) / self.std
        return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None]), scale

    def lift(self, joints2d: np.ndarray, confidence: np.ndarray, encodings: np.ndarray,
             visible: np.ndarray) -> np.ndarray:
        """Stage II for P people at once -> (P, 21, 3) root-relative metres."""
        if not len(joints2d):
            return np.zeros((0, STAGE2_SET.num_joints, 3), np.float32)
        features = stage2_features(joints2d, confidence, encodings, visible)
        out = self.stage2.run({"features": features})["joints3d"]
        return out.reshape(len(features), STAGE2_SET.num_joints, 3)

    def __call__(self, frame: Frame) -> FrameObservations:
        timings = dict.fromkeys(TIMING_KEYS, 0.0)
        start = time.perf_counter()

        def lap(key: str) -> None:
            nonlocal start
            now = time.perf_counter()
            timings[key] = 1000.0 * (now - start)
            start = now

        image = frame.image
        tensor, scale = self.preprocess(image)
        lap("preprocess")
        maps = self.stage1.run({"image": tensor})
        lap("stage1")
        people = group_people(maps["heatmaps"][0], maps["pafs"][0], maps["encodings"][0], self.config.decode)
        order = np.argsort(-people.scores.sum(axis=1), kind="stable")[:self.config.max_people]
        visible = people.visible[order]
        joints_px = map_to_image(people.joints[order], self.stride) / scale
        lap("decode")
        joints3d = self.lift(joints_px, people.scores[order], people.encodings[order], visible)
        lap("stage2")
        observations = tuple(self._observation(joints_px[i], people.scores[order][i], visible[i], joints3d[i])
                             for i in range(len(order)))
        return FrameObservations(frame=frame.index, time=frame.timestamp, width=frame.width, height=frame.height,
                                 people=observations, timings_ms=timings)

    def _observation(self, joints_px: np.ndarray, scores: np.ndarray, visible: np.ndarray,
                     joints3d: np.ndarray) -> Observation:
        count = STAGE2_SET.num_joints
        joints2d = np.full((count, 2), np.nan, np.float32)
        confidence = np.zeros(count, np.float32)
        joints2d[self._to_output] = np.where(visible[:, None], joints_px, np.nan)
        confidence[self._to_output] = np.where(visible, scores, 0.0)
        seen = joints_px[visible]
        bbox = np.concatenate([seen.min(axis=0), seen.max(axis=0)]).astype(np.float32)
        return Observation(joint_set=STAGE2_SET.name, joints2d=joints2d, confidence=confidence, bbox=bbox,
                           joints3d=joints3d.astype(np.float32))
