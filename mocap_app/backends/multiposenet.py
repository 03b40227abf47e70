"""The ``multiposenet`` backend: one pass of the image network for everyone, then PRN per person box.

Per frame: letterbox to the network input (384 x 576 by default, from its sidecar), run the image
network (keypoint heatmaps + person detector, ONNX Runtime), decode boxes and peaks and assign
peaks to boxes with the Pose Residual Network (:mod:`mocap_app.multiposenet.decode`).

Output per person (:class:`~mocap_app.types.Observation`, joint set ``coco17``): 2D keypoints in
image pixels (NaN where PRN assigned none), confidence = assignment score, the person box, and
``joints3d`` from the 2D-only Stage II lifter (:mod:`mocap_app.xnect.lifter`, shipped in the
package; one batch for everyone in the frame): root-relative metres, camera axes, nominal adult
size. ``joints3d`` stays ``None`` for a person the lifter cannot take (a shoulder missing, fewer
than six joints) or when the backend runs without a lifter (``lift=False``).

Weights: the PRN ships with the package (``mocap_app/multiposenet/prn.onnx``, trained on synthetic
crowds, see the README). The image network needs image data: train it (``mocap train multiposenet``)
into the model store, else :class:`~mocap_app.errors.WeightsMissingError` says so.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engines.engine import Engine, load_engine
from engines.postprocessing import RetinaAnchorConfig, retina_anchors
from engines.preprocessing import letterbox_rect

from ..errors import ModelContractError, WeightsMissingError
from ..models_store import engine_dir, retrained_or_packaged
from ..multiposenet.decode import DecodeThresholds, decode_people, person_boxes
from ..skeletons import COCO17
from ..types import Frame, FrameObservations
from ..xnect.lifter import Lifter

logger = logging.getLogger(__name__)

TIMING_KEYS = ("preprocess", "network", "boxes", "prn", "stage2")
#: The PRN shipped inside the package.
PACKAGED_PRN = Path(__file__).resolve().parents[1] / "multiposenet" / "prn.onnx"
NETWORK_HINT = ("MultiPoseNet has no image-network weights at {path}: train them with "
                "'mocap train multiposenet --coco ANN.json --images DIR' (see README, 'MultiPoseNet engine')")


def multiposenet_dir(root: Path | None = None) -> Path:
    """The MultiPoseNet folder of the model store (``multiposenet.onnx``, training checkpoints)."""
    return engine_dir("multiposenet", root)


def model_paths(root: Path | None = None) -> dict[str, Path]:
    """Image network (model store) and PRN (model store if retrained there, else the packaged one)."""
    folder = multiposenet_dir(root)
    return {"network": folder / "multiposenet.onnx", "prn": retrained_or_packaged(folder, "prn.onnx", PACKAGED_PRN)}


@dataclass(frozen=True)
class MultiPoseNetConfig:
    """Knobs: most people kept, person-score threshold (``None``: the sidecar's), device, threads."""

    max_people: int = 20
    person_score: float | None = None
    device: str = "cpu"
    threads: int | None = None


class MultiPoseNetBackend:
    """Image network + PRN backend.

    Example:
        >>> backend = MultiPoseNetBackend.from_store()  # doctest: +SKIP
        >>> observations = backend(frame)  # doctest: +SKIP
    """

    name = "multiposenet"

    def __init__(self, network: Engine, prn: Engine, config: MultiPoseNetConfig | None = None,
                 lifter: Lifter | None = None) -> None:
        self.network, self.prn, self.config = network, prn, config or MultiPoseNetConfig()
        self.lifter = lifter
        for engine in (network, prn):
            if engine.sidecar.get("keypoint_schema") != COCO17.name:
                raise ModelContractError(f"{engine.path} gives {engine.sidecar.get('keypoint_schema')!r} keypoints; "
                                         f"this backend reads {COCO17.name}.")
        sidecar = network.sidecar
        _, _, self.height, self.width = (int(v) for v in sidecar["input"]["shape"])
        self.mean = np.asarray(sidecar["input"]["mean"], np.float32)
        self.std = np.asarray(sidecar["input"]["std"], np.float32)
        self.stride = int(sidecar["heatmap_stride"])
        self.anchors = retina_anchors(self.height, self.width, RetinaAnchorConfig.from_sidecar(sidecar["anchors"]))
        self.thresholds = DecodeThresholds.from_sidecar(sidecar["thresholds"], max_people=self.config.max_people,
                                                        person_score=self.config.person_score)
        crop = prn.sidecar["crop"]
        self.grid = (int(crop["rows"]), int(crop["cols"]))

    @classmethod
    def from_store(cls, root: Path | None = None, max_people: int = 20, threads: int | None = None,
                   device: str = "cpu", person_score: float | None = None, lift: bool = True,
                   **_ignored: object) -> MultiPoseNetBackend:
        """Load both networks and the packaged 2D lifter; ``WeightsMissingError`` naming how to get the
        image network when it is absent.

        Options other backends take (e.g. ``detect_interval``) are accepted and ignored.
        """
        paths = model_paths(root)
        if not paths["network"].is_file():
            raise WeightsMissingError(NETWORK_HINT.format(path=paths["network"]))
        config = MultiPoseNetConfig(max_people=max_people, person_score=person_score, device=device, threads=threads)
        lifter = Lifter.load(device=device, threads=threads) if lift and Lifter.available() else None
        if lifter is not None:
            logger.info("multiposenet: 3D from the %s", lifter.describe())
        return cls(load_engine(paths["network"], device=device, threads=threads),
                   load_engine(paths["prn"], device=device, threads=threads), config, lifter)

    @property
    def provider(self) -> str:
        return self.network.provider

    def reset(self) -> None:
        """Nothing is carried between frames."""

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """BGR uint8 image -> ((1, 3, H, W) normalised RGB float32, (2, 3) image->input matrix)."""
        boxed, matrix = letterbox_rect(image, self.height, self.width)
        rgb = cv2.cvtColor(boxed, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        return ((rgb - self.mean) / self.std).transpose(2, 0, 1)[None].astype(np.float32), matrix

    def run_prn(self, crops: np.ndarray) -> np.ndarray:
        """(P, 17, rows, cols) crops -> per-channel probabilities (one engine call for all people)."""
        if not len(crops):
            return np.zeros_like(crops)
        return self.prn.run({"crops": np.ascontiguousarray(crops, dtype=np.float32)})["probabilities"]

    def __call__(self, frame: Frame) -> FrameObservations:
        """Everyone in ``frame``: one observation per detected person box."""
        timings = dict.fromkeys(TIMING_KEYS, 0.0)
        start = time.perf_counter()

        def lap(key: str) -> None:
            nonlocal start
            now = time.perf_counter()
            timings[key] += 1000.0 * (now - start)
            start = now

        tensor, matrix = self.preprocess(frame.image)
        lap("preprocess")
        outputs = self.network.run({"image": tensor})
        lap("network")
        boxes, _ = person_boxes(outputs["cls_logits"][0], outputs["box_deltas"][0], self.anchors, self.thresholds)
        lap("boxes")
        people = decode_people(outputs["heatmaps"][0], boxes, matrix, self.stride, self.run_prn, self.grid,
                               self.thresholds)
        lap("prn")
        if self.lifter is not None:
            people = self.lifter.lift_many(people)
        lap("stage2")
        return FrameObservations(frame=frame.index, time=frame.timestamp, width=frame.width, height=frame.height,
                                 people=tuple(people), timings_ms=timings)
