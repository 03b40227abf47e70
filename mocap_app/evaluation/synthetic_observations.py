"""Ground-truth motion turned into the observations a detector would give, with documented noise.

A BVH take (any known CMU naming, see :mod:`mocap_app.skeletons.bvh_names`) becomes ``vnect21``
keypoints in metres on a floor at y = 0, resampled to the evaluation frame rate, seen by a
calibrated virtual camera. The noise model (all per joint, per frame, fixed seed):

* 2D: Gaussian pixel jitter ``pixel_sigma``; with probability ``outlier_rate`` a joint jumps by
  20-80 px (a wrong detection) and its confidence drops; with ``drop_rate`` it is missing (NaN,
  confidence 0); confidences otherwise ~ U(0.6, 1.0).
* 3D (root-relative, camera axes, what Stage II gives): Gaussian ``sigma_3d_m`` per coordinate.
* Appearance: a hue-saturation histogram around the performer's own hue, re-noised each frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..bvh import forward_kinematics, read_bvh
from ..conventions import default_intrinsics
from ..skeletons import VNECT21
from ..skeletons.bvh_names import guess_unit, vnect21_from_bvh
from ..tracking.identity import HS_BINS
from ..types import FrameObservations, Observation

_FEET = VNECT21.indices(["left_ankle", "right_ankle", "left_toe", "right_toe"])
_PELVIS = VNECT21.index("pelvis")
#: Height of the lowest foot keypoint above the floor when standing: toe joint / ankle, metres.
TOE_CLEARANCE_M, ANKLE_CLEARANCE_M = 0.02, 0.08


@dataclass(frozen=True)
class NoiseModel:
    """Detector-like noise (see the module docstring)."""

    pixel_sigma: float = 2.0
    outlier_rate: float = 0.02
    drop_rate: float = 0.03
    sigma_3d_m: float = 0.025
    with_3d: bool = True


@dataclass(frozen=True)
class VirtualView:
    """Image size, intrinsics and world pose of the evaluation camera (OpenCV axes)."""

    width: int
    height: int
    K: np.ndarray
    R_wc: np.ndarray
    t_wc: np.ndarray

    def project(self, points: np.ndarray) -> np.ndarray:
        cam = (points - self.t_wc) @ self.R_wc
        return cam[..., :2] / cam[..., 2:3] * self.K[[0, 1], [0, 1]] + self.K[:2, 2]


def load_motion(path: str | Path, fps: float, source_fps: float | None = None,
                max_frames: int | None = None) -> np.ndarray:
    """(F, 21, 3) ``vnect21`` ground truth in metres, floor at y = 0, resampled to ``fps``.

    Args:
        path: BVH file of a known naming.
        fps: output frame rate.
        source_fps: the file's true frame rate when its header is wrong (e.g. 60 for the ACRNN
            salsa files, whose header says 120); ``None`` trusts the header.
        max_frames: keep at most this many output frames.
    """
    motion = read_bvh(path)
    keypoints = vnect21_from_bvh(motion.skeleton.names, forward_kinematics(motion))
    keypoints = keypoints * guess_unit(keypoints)
    rate = source_fps or motion.fps
    times = np.arange(motion.num_frames) / rate
    out_t = np.arange(0.0, times[-1] + 1e-9, 1.0 / fps)
    if max_frames is not None:
        out_t = out_t[:max_frames]
    flat = keypoints.reshape(len(times), -1)
    resampled = np.stack([np.interp(out_t, times, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    resampled = resampled.reshape(len(out_t), VNECT21.num_joints, 3)
    has_toes = np.isfinite(keypoints[:, _FEET[2:]]).all()
    lowest = np.nanmin(resampled[:, _FEET, 1], axis=1)
    floor = np.percentile(lowest, 2.0) - (TOE_CLEARANCE_M if has_toes else ANKLE_CLEARANCE_M)
    resampled[..., 1] -= floor
    return resampled


def look_at_view(centre: np.ndarray, distance: float = 5.5, height: float = 1.6, width: int = 1280,
                 image_height: int = 720) -> VirtualView:
    """A camera ``distance`` metres in front (+z) of ``centre`` at ``height``, looking at 1 m above it."""
    eye = np.array([centre[0], height, centre[2] + distance])
    target = np.array([centre[0], 1.0, centre[2]])
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return VirtualView(width, image_height, default_intrinsics(width, image_height),
                       np.stack([right, down, forward], axis=1), eye)


def _appearance(hue_bin: int, rng: np.random.Generator) -> np.ndarray:
    hue = np.exp(-0.5 * ((np.arange(HS_BINS[0]) - hue_bin) / 1.5) ** 2)
    sat = np.exp(-0.5 * ((np.arange(HS_BINS[1]) - 20) / 4.0) ** 2)
    hist = np.outer(hue, sat).ravel() + rng.gamma(0.3, 0.02, HS_BINS[0] * HS_BINS[1])
    return hist / hist.sum()


def make_observations(performers: list[np.ndarray], view: VirtualView, fps: float, noise: NoiseModel,
                      hues: list[int], seed: int = 0) -> tuple[list[FrameObservations], list[np.ndarray]]:
    """Noisy observations of the performers (people in random order each frame).

    Returns:
        (frames, noisy_3d): the frames, and per performer the (F, 21, 3) noisy root-relative 3D
        in *world* axes given to the fitter (NaN where dropped), the "noisy input" baseline.
    """
    rng = np.random.default_rng(seed)
    count = min(len(p) for p in performers)
    noisy_3d = [np.full((count, VNECT21.num_joints, 3), np.nan) for _ in performers]
    frames = []
    for f in range(count):
        people = []
        for k, motion in enumerate(performers):
            world = motion[f]
            pixels = view.project(world) + rng.normal(0.0, noise.pixel_sigma, (VNECT21.num_joints, 2))
            conf = rng.uniform(0.6, 1.0, VNECT21.num_joints)
            outlier = rng.random(VNECT21.num_joints) < noise.outlier_rate
            jump = rng.uniform(20.0, 80.0, (VNECT21.num_joints, 1)) * rng.choice([-1.0, 1.0], (VNECT21.num_joints, 2))
            pixels = np.where(outlier[:, None], pixels + jump, pixels)
            conf = np.where(outlier, rng.uniform(0.2, 0.6, VNECT21.num_joints), conf)
            dropped = (rng.random(VNECT21.num_joints) < noise.drop_rate) | ~np.isfinite(world).all(axis=1)
            pixels[dropped], conf[dropped] = np.nan, 0.0
            joints3d = None
            if noise.with_3d:
                rel_world = world - world[_PELVIS] + rng.normal(0.0, noise.sigma_3d_m, world.shape)
                rel_world[dropped] = np.nan
                noisy_3d[k][f] = rel_world
                joints3d = (rel_world @ view.R_wc).astype(np.float32)
            valid = pixels[np.isfinite(pixels).all(axis=1)]
            bbox = np.concatenate([valid.min(axis=0), valid.max(axis=0)]) if len(valid) else np.zeros(4)
            people.append(Observation(joint_set=VNECT21.name, joints2d=pixels.astype(np.float32),
                                      confidence=conf.astype(np.float32), bbox=bbox.astype(np.float32),
                                      joints3d=joints3d, appearance=_appearance(hues[k], rng)))
        order = rng.permutation(len(people))
        frames.append(FrameObservations(frame=f, time=f / fps, width=view.width, height=view.height,
                                        people=tuple(people[i] for i in order)))
    return frames, noisy_3d
