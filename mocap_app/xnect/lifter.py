"""The 2D-only Stage II lifter: people's 2D joints from any front end -> root-relative 3D.

XNect's Stage II reads Stage I's 3D encodings; a 2D-only front end (MultiPoseNet, 2D observation
files for ``mocap fit``) has none, so the project ships a second Stage II trained on 2D joints and
confidences alone (``stage2_2d.onnx``, ``mocap train xnect-stage2 --inputs 2d+conf``, see README).

Input: an observation in any joint set with a mapping to ``mpi3dhp17`` (``coco17``,
``blazepose33``, ``vnect21``, ``mpi3dhp17``), converted with :func:`~mocap_app.skeletons.map_joints`
(for COCO: neck = shoulders' midpoint, pelvis = hips' midpoint, head = ears' midpoint; head top and
spine are fed as undetected, as in training). A joint is detected where its 2D is finite and its
confidence positive. People whose neck (COCO: both shoulders) is missing, or with fewer than
:data:`MIN_DETECTED_JOINTS` joints, are not lifted (``joints3d`` stays ``None``).

Output: the same observation with ``joints3d`` in its *own* joint set (so every consumer keeps one
joint set per observation): the network's ``vnect21`` pose placed on that set by
:func:`~mocap_app.skeletons.from_vnect21.keypoints_from_vnect21` (COCO's face from the head
direction, NaN where a set's joint has no counterpart, e.g. BlazePose heels). Metres, camera axes
(x right, y down, z forward), relative to the ``vnect21`` pelvis, at a nominal adult size (2D
cannot tell size; Stage III scales the 3D to the performer's bones). :meth:`Lifter.lift_vnect21`
gives the raw ``vnect21`` poses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from engines.engine import Engine, load_engine

from ..errors import ModelContractError, WeightsMissingError
from ..skeletons import get_mapping, map_joints
from ..skeletons.from_vnect21 import keypoints_from_vnect21, supports
from ..skeletons.xnect import ANCHOR_JOINT, STAGE1_SET, STAGE2_SET
from ..types import FrameObservations, Observation
from .features import INPUT_MODES, NOMINAL_SCALE_KEY, stage2_features

logger = logging.getLogger(__name__)

#: The 2D-only lifter shipped inside the package.
PACKAGED_LIFTER = Path(__file__).resolve().parent / "stage2_2d.onnx"
#: Fewest detected Stage I joints (after mapping) for a person to be lifted.
MIN_DETECTED_JOINTS = 6
_NECK = STAGE1_SET.index(ANCHOR_JOINT)


class Lifter:
    """Batched 2D -> 3D lifting with the 2D-only Stage II network (ONNX Runtime).

    Example:
        >>> lifter = Lifter.load()  # doctest: +SKIP
        >>> lifted = lifter.lift(observation)  # doctest: +SKIP
        >>> lifted.joints3d.shape  # (J, 3) in observation.joint_set  # doctest: +SKIP
    """

    def __init__(self, engine: Engine) -> None:
        sidecar = engine.sidecar
        mode = sidecar.get("input_mode")
        for key, expected in (("input_schema", STAGE1_SET.name), ("keypoint_schema", STAGE2_SET.name)):
            if sidecar.get(key) != expected:
                raise ModelContractError(f"{engine.path}: sidecar {key} is {sidecar.get(key)!r}, the lifter needs "
                                         f"{expected!r}. Retrain it: 'mocap train xnect-stage2 --inputs 2d+conf'.")
        if mode not in INPUT_MODES or INPUT_MODES[mode][2]:
            raise ModelContractError(f"{engine.path}: input_mode {mode!r} is not a 2D-only Stage II; train one with "
                                     "'mocap train xnect-stage2 --inputs 2d+conf'.")
        self.engine, self.mode = engine, str(mode)
        self.nominal_bone_m = float(sidecar.get(NOMINAL_SCALE_KEY, float("nan")))
        self.eval_mpjpe_mm = sidecar.get("training", {}).get("eval_mpjpe_mm")

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu", threads: int | None = None) -> Lifter:
        """The lifter at ``path`` (default: the packaged one); ``WeightsMissingError`` if it is absent."""
        path = Path(path) if path is not None else PACKAGED_LIFTER
        if not path.is_file():
            raise WeightsMissingError(f"No 2D lifter at {path}: train one with 'mocap train xnect-stage2 --inputs "
                                      "2d+conf --train DIR --eval DIR' (see README, 'XNect engine').")
        return cls(load_engine(path, device=device, threads=threads))

    @staticmethod
    def available(path: str | Path | None = None) -> bool:
        """Whether a lifter file exists at ``path`` (default: the packaged one)."""
        return (Path(path) if path is not None else PACKAGED_LIFTER).is_file()

    def describe(self) -> str:
        """One line naming the network, its input mode and its evaluation error (for logs and the CLI)."""
        error = f", simulated eval MPJPE {self.eval_mpjpe_mm:.1f} mm" if self.eval_mpjpe_mm is not None else ""
        return f"2D lifter {self.engine.path.name} ({self.mode}{error}, {self.engine.provider})"

    def lift_vnect21(self, joints2d: np.ndarray, confidence: np.ndarray, joint_set: str) -> np.ndarray:
        """Lift P people of one joint set at once.

        Args:
            joints2d: (P, J, 2) pixels of ``joint_set``; NaN = not detected.
            confidence: (P, J) in [0, 1]; 0 = not detected.
            joint_set: name of the input joint set (needs a mapping to ``mpi3dhp17``).

        Returns:
            (P, 21, 3) float32 ``vnect21`` poses, pelvis-relative metres, camera axes, nominal size;
            a row is NaN for a person that cannot be lifted (no neck, too few joints).
        """
        joints2d = np.asarray(joints2d, np.float64)
        count = len(joints2d)
        result = np.full((count, STAGE2_SET.num_joints, 3), np.nan, np.float32)
        if not count:
            return result
        conf = np.nan_to_num(np.asarray(confidence, np.float64), nan=0.0).clip(0.0, 1.0)
        conf = np.where(np.isfinite(joints2d).all(-1) & (conf > 0), conf, np.nan)
        points = map_joints(joints2d, joint_set, STAGE1_SET.name)
        scores = map_joints(conf[..., None], joint_set, STAGE1_SET.name)[..., 0]
        visible = np.isfinite(points).all(-1) & np.isfinite(scores)
        ok = visible[:, _NECK] & (visible.sum(axis=1) >= MIN_DETECTED_JOINTS)
        if ok.any():
            features = stage2_features(points[ok], np.nan_to_num(scores[ok]), None, visible[ok], self.mode)
            out = self.engine.run({"features": features})["joints3d"]
            result[ok] = out.reshape(int(ok.sum()), STAGE2_SET.num_joints, 3)
        return result

    def lift_many(self, observations: Sequence[Observation]) -> list[Observation]:
        """Every observation without ``joints3d`` lifted (one network call per joint set); others as they are."""
        lifted = list(observations)
        todo: dict[str, list[int]] = {}
        for index, person in enumerate(observations):
            if person.joints3d is None and supports(person.joint_set) and _maps_to_stage1(person.joint_set):
                todo.setdefault(person.joint_set, []).append(index)
        for joint_set, indices in todo.items():
            people = [observations[i] for i in indices]
            poses = self.lift_vnect21(np.stack([p.joints2d for p in people]), np.stack([p.confidence for p in people]),
                                      joint_set)
            placed = keypoints_from_vnect21(poses, joint_set).astype(np.float32)
            for i, person, pose, points in zip(indices, people, poses, placed, strict=True):
                if np.isfinite(pose).all():
                    lifted[i] = replace(person, joints3d=points)
        return lifted

    def lift(self, observation: Observation) -> Observation:
        """One observation with ``joints3d`` filled (unchanged if it has 3D or cannot be lifted)."""
        return self.lift_many([observation])[0]

    def lift_frame(self, frame: FrameObservations) -> FrameObservations:
        """Everyone in a frame, in one batch per joint set."""
        return replace(frame, people=tuple(self.lift_many(frame.people)))

    def __call__(self, observation: Observation, frame: FrameObservations | None = None) -> Observation:
        """Stage III's ``lifter`` hook: ``(observation, frame) -> observation``."""
        return self.lift(observation)


def _maps_to_stage1(joint_set: str) -> bool:
    try:
        get_mapping(joint_set, STAGE1_SET.name)
    except KeyError:
        return False
    return True
