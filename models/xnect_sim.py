"""Stage I outputs simulated from motion capture: Stage II's training and evaluation data.

The thesis trains Stage II on what the trained Stage I predicts on MuCo-3DHP frames; without those,
we simulate Stage I from BVH motion (numpy only, vectorised over a batch, fixed seeds):

* a random virtual camera (512x320, vertical FOV 45-65 deg, pitch -15..35 deg) and subject placement
  (2-9 m away, anywhere in the view, turned any way about the vertical, body scale 0.9-1.1);
* 2D: projection + Gaussian noise (1 px + 1 % of the person's size), 3 % outliers (6-20 % of the
  size off, low confidence); confidences U(0.5, 1) for good joints;
* visibility: joints outside the image, 4 % random dropouts, and with probability 0.4 a rectangular
  occluder over part of the person (joints under it are undetected); the neck is always detected,
  since Stage I drops people without one;
* other front ends (``coco_rate``, 0 by default): that fraction of people is seen the way a COCO-17
  detector (MultiPoseNet, BlazePose's body) sees them after the ``coco17 -> mpi3dhp17`` mapping:
  the COCO keypoints are placed on the body (the face from the head, :mod:`mocap_app.skeletons.face`),
  projected and mapped, so the neck is the shoulders' midpoint, the pelvis the hips' midpoint, the
  head the ears' midpoint, and head top and spine are never detected;
* mirrored motion (``mirror_rate``, 0 by default): that fraction of poses is mirrored left-right
  (x negated, left and right joints swapped), which doubles the motion a 2D-only lifter learns from;
* encodings at each detected joint: the supervised triplets (the bones meeting there, see
  :func:`mocap_app.skeletons.xnect.sparse_mask`) = true bone vector + N(0, 2 cm); the unsupervised
  triplets = true + N(0, 10 cm) (whatever the network happens to put there); with probability 5 %
  the vector comes from another person (same-type joints close together).

Targets: ``vnect21`` joints minus the pelvis, camera axes (OpenCV), metres; NaN where the BVH file
has no such joint (hands in some CMU conversions).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mocap_app.bvh import forward_kinematics, read_bvh, with_end_sites
from mocap_app.progress import progress
from mocap_app.skeletons import COCO17, MPI3DHP17, VNECT21, map_joints
from mocap_app.skeletons.bvh_names import BVH_TO_RIG, VNECT21_TIPS, detect_convention, guess_unit, vnect21_from_bvh
from mocap_app.skeletons.face import coco17_from_vnect21
from mocap_app.skeletons.xnect import ANCHOR_JOINT, SPARSE_MASK, STAGE1_SET, bone_vectors
from mocap_app.xnect.features import stage2_features

logger = logging.getLogger(__name__)

_PELVIS = VNECT21.index("pelvis")
_NECK = STAGE1_SET.index(ANCHOR_JOINT)
_J1 = STAGE1_SET.num_joints
#: Stage I joints are the first 17 of vnect21 (same names, same order).
assert VNECT21.joints[:_J1] == STAGE1_SET.joints


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the simulation (see the module docstring for what each does)."""

    width: int = 512
    height: int = 320
    fov_deg: tuple[float, float] = (45.0, 65.0)
    pitch_deg: tuple[float, float] = (-15.0, 35.0)
    distance_m: tuple[float, float] = (2.0, 9.0)
    body_scale: tuple[float, float] = (0.9, 1.1)
    pixel_sigma: float = 1.0
    pixel_sigma_rel: float = 0.01
    outlier_rate: float = 0.03
    drop_rate: float = 0.04
    occluder_rate: float = 0.4
    enc_sigma_m: float = 0.02
    enc_free_sigma_m: float = 0.10
    conflict_rate: float = 0.05
    coco_rate: float = 0.0
    mirror_rate: float = 0.0


@dataclass(frozen=True)
class SimBatch:
    """One simulated batch.

    Attributes:
        joints2d: (B, 17, 2) pixels; confidence: (B, 17); encodings: (B, 17, 51) metres;
        visible: (B, 17) bool; target: (B, 21, 3) root-relative camera-axes metres (NaN = unknown).
    """

    joints2d: np.ndarray
    confidence: np.ndarray
    encodings: np.ndarray
    visible: np.ndarray
    target: np.ndarray

    def features(self, mode: str = "2d+conf+enc") -> np.ndarray:
        """(B, 918) Stage II input rows."""
        return stage2_features(self.joints2d, self.confidence, self.encodings, self.visible, mode)


def load_vnect21(path: str | Path, fps: float = 30.0) -> np.ndarray:
    """(F, 21, 3) ``vnect21`` joints of a CMU BVH take in metres (y up), subsampled to about ``fps``.

    Head top and hands come from End Sites / finger joints where the file has them, else stay NaN.
    """
    motion = read_bvh(path)
    names = motion.skeleton.names
    extended, ends = with_end_sites(motion)
    positions = forward_kinematics(extended)[:: max(1, round(motion.fps / fps))]
    keypoints = vnect21_from_bvh(names, positions[:, :len(names)])
    index = {name: i for i, name in enumerate(names)} | ends
    table = BVH_TO_RIG[detect_convention(names)]
    for keypoint, tip in VNECT21_TIPS.items():
        sources = table.get(tip, ())
        if sources and all(name in index for name, _ in sources):
            keypoints[:, VNECT21.index(keypoint)] = sum(w * positions[:, index[name]] for name, w in sources)
    return keypoints * guess_unit(keypoints)


def load_poses(folder: str | Path, fps: float = 30.0) -> np.ndarray:
    """(N, 21, 3) root-relative world poses (metres, y up) of every BVH file under ``folder``."""
    files = sorted(Path(folder).rglob("*.bvh"))
    if not files:
        raise FileNotFoundError(f"No .bvh files under {folder}.")
    poses = [load_vnect21(path, fps) for path in progress(files, label="motion files", unit="file")]
    stacked = np.concatenate(poses)
    stacked = stacked - stacked[:, _PELVIS:_PELVIS + 1]
    keep = np.isfinite(stacked[:, :_J1]).all(axis=(1, 2))
    logger.info("%d poses from %d files (%d without all Stage I joints dropped)", keep.sum(), len(files),
                (~keep).sum())
    return stacked[keep]


def _rotation_x(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    zeros, ones = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([ones, zeros, zeros], -1), np.stack([zeros, c, -s], -1),
                     np.stack([zeros, s, c], -1)], -2)


def _rotation_y(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    zeros, ones = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, zeros, s], -1), np.stack([zeros, ones, zeros], -1),
                     np.stack([-s, zeros, c], -1)], -2)


def simulate(poses: np.ndarray, batch: int, rng: np.random.Generator, config: SimConfig | None = None) -> SimBatch:
    """A batch of simulated Stage I outputs for random poses of ``poses`` (see the module docstring)."""
    cfg = config or SimConfig()
    count = len(poses)
    pick = rng.integers(0, count, batch)
    world = poses[pick] * rng.uniform(*cfg.body_scale, (batch, 1, 1))          # (B, 21, 3) y up
    mirrored = rng.random(batch) < cfg.mirror_rate
    world[mirrored] = world[mirrored][:, VNECT21.mirror_indices] * np.array([-1.0, 1.0, 1.0])
    # World (y up) -> camera (y down, z forward): turn about vertical, turn half a turn about the view
    # axis (y up becomes y down; a proper rotation, so left stays left), pitch the camera down.
    yaw = _rotation_y(rng.uniform(-np.pi, np.pi, batch))
    flip = np.diag([-1.0, -1.0, 1.0])
    pitch = _rotation_x(np.radians(rng.uniform(*cfg.pitch_deg, batch)))
    rotation = pitch @ flip @ yaw
    rel = np.einsum("bij,bkj->bki", rotation, world)                              # root-relative, camera axes
    fov = np.radians(rng.uniform(*cfg.fov_deg, batch))
    focal = 0.5 * cfg.height / np.tan(0.5 * fov)
    depth = rng.uniform(*cfg.distance_m, batch)
    # Pelvis anywhere in the view (a little past the borders: truncated people).
    px = rng.uniform(-0.1, 1.1, batch) * cfg.width
    py = rng.uniform(0.2, 0.95, batch) * cfg.height
    root = np.stack([(px - cfg.width / 2) * depth / focal, (py - cfg.height / 2) * depth / focal, depth], -1)
    cam = rel + root[:, None]
    seen = cam[:, :_J1].copy()                   # the points the detector reports, (B, 17, 3)
    coco = rng.random(batch) < cfg.coco_rate
    if coco.any():
        seen[coco] = map_joints(coco17_from_vnect21(cam[coco]), COCO17.name, MPI3DHP17.name)
    z = np.maximum(seen[..., 2], 0.1)
    uv = np.stack([focal[:, None] * seen[..., 0] / z + cfg.width / 2,
                   focal[:, None] * seen[..., 1] / z + cfg.height / 2], -1)
    found = np.isfinite(uv).all(-1)             # False: the joint set has no such keypoint
    uv = np.where(found[..., None], uv, uv[:, _NECK:_NECK + 1])
    size = np.maximum(np.ptp(uv[..., 1], axis=1), np.ptp(uv[..., 0], axis=1))       # (B,) pixels
    sigma = cfg.pixel_sigma + cfg.pixel_sigma_rel * size
    noisy = uv + rng.normal(0.0, 1.0, uv.shape) * sigma[:, None, None]
    outlier = rng.random((batch, _J1)) < cfg.outlier_rate
    jump = rng.uniform(0.06, 0.2, (batch, _J1, 1)) * size[:, None, None] * rng.choice([-1.0, 1.0], (batch, _J1, 2))
    noisy = np.where(outlier[..., None], noisy + jump, noisy)
    confidence = np.where(outlier, rng.uniform(0.1, 0.5, (batch, _J1)), rng.uniform(0.5, 1.0, (batch, _J1)))

    inside = (uv[..., 0] >= 0) & (uv[..., 0] < cfg.width) & (uv[..., 1] >= 0) & (uv[..., 1] < cfg.height)
    visible = inside & found & (rng.random((batch, _J1)) >= cfg.drop_rate) & (seen[..., 2] > 0.1)
    occluded = rng.random(batch) < cfg.occluder_rate
    lo, hi = uv.min(axis=1), uv.max(axis=1)
    extent = (hi - lo) * rng.uniform(0.25, 0.6, (batch, 2))
    corner = lo + (hi - lo - extent) * rng.random((batch, 2))
    under = ((uv >= corner[:, None]) & (uv <= (corner + extent)[:, None])).all(-1) & occluded[:, None]
    visible &= ~under
    visible[:, _NECK] = True                      # Stage I keeps only people whose neck it found
    noisy[:, _NECK] = np.clip(noisy[:, _NECK], 0, [cfg.width - 1, cfg.height - 1])

    bones = bone_vectors(rel[:, :_J1], STAGE1_SET)                                # (B, 17, 3)
    encodings = np.repeat(bones[:, None], _J1, axis=1)                            # (B, 17 at, 17 triplets, 3)
    sigma_enc = np.where(SPARSE_MASK[None, :, :, None], cfg.enc_sigma_m, cfg.enc_free_sigma_m)
    encodings = encodings + rng.normal(0.0, 1.0, encodings.shape) * sigma_enc
    encodings = encodings.reshape(batch, _J1, 3 * _J1)
    conflict = rng.random((batch, _J1)) < cfg.conflict_rate
    encodings = np.where(conflict[..., None], encodings[rng.permutation(batch)], encodings)

    target = rel - rel[:, _PELVIS:_PELVIS + 1]
    return SimBatch(joints2d=noisy.astype(np.float32), confidence=confidence.astype(np.float32),
                    encodings=encodings.astype(np.float32), visible=visible, target=target.astype(np.float32))

