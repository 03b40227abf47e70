"""Stage I training targets rendered from annotated people (numpy): heatmaps, PAFs, sparse encodings.

* Heatmaps: unit-peak Gaussians (``sigma`` cells) at each annotated joint, max over people.
* PAFs (Cao et al. 2017): inside a ``limb_width``-cell band around each bone, the unit vector from
  the joint to its parent; averaged where people overlap.
* Encodings (thesis Ch. 6.3.1): at each annotated joint with 3D, the triplets of the bones meeting
  there (:data:`~mocap_app.skeletons.xnect.SPARSE_MASK`) hold those bone vectors (metres, camera
  axes); the loss weight of those channels is the joint's Gaussian. Where people overlap, the one
  nearer the camera wins (people are drawn far to near).

Coordinates are input pixels; maps use :func:`mocap_app.xnect.decode.image_to_map`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mocap_app.skeletons.xnect import PAF_LIMBS, SPARSE_MASK, STAGE1_SET, bone_vectors
from mocap_app.xnect.decode import image_to_map

HEATMAP_SIGMA_CELLS = 1.0
PAF_WIDTH_CELLS = 1.0
#: Gaussian weights below this do not claim an encoding pixel for a person.
ENCODING_SUPPORT = 0.05


@dataclass(frozen=True)
class Stage1Targets:
    """Targets and loss masks of one image (maps at stride 8).

    Attributes:
        heatmaps: (J, h, w); pafs: (2B, h, w); encodings: (3J, h, w) metres;
        heatmap_mask: (J,) 1 where the dataset annotates that joint type; paf_mask: (2B,) likewise;
        encoding_weight: (3J, h, w) per-pixel loss weight of the encodings (0 for 2D-only data).
    """

    heatmaps: np.ndarray
    pafs: np.ndarray
    encodings: np.ndarray
    heatmap_mask: np.ndarray
    paf_mask: np.ndarray
    encoding_weight: np.ndarray


def render_targets(joints2d: np.ndarray, visible: np.ndarray, map_size: tuple[int, int], stride: int,
                   joints3d: np.ndarray | None = None, annotated: np.ndarray | None = None) -> Stage1Targets:
    """Targets for P people.

    Args:
        joints2d: (P, J, 2) input pixels of ``mpi3dhp17`` joints.
        visible: (P, J) bool, joints annotated and in view.
        map_size: (w, h) of the maps.
        stride: input pixels per map cell.
        joints3d: (P, J, 3) camera-axes metres (any origin), or ``None`` for 2D-only data.
        annotated: (J,) bool joint types this dataset annotates (default all).
    """
    width, height = map_size
    num_joints = STAGE1_SET.num_joints
    annotated = np.ones(num_joints, bool) if annotated is None else np.asarray(annotated, bool)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cells = image_to_map(joints2d, stride)
    heatmaps = np.zeros((num_joints, height, width), np.float32)
    pafs = np.zeros((2 * len(PAF_LIMBS), height, width), np.float32)
    paf_count = np.zeros((len(PAF_LIMBS), height, width), np.float32)
    encodings = np.zeros((num_joints, num_joints, 3, height, width), np.float32)
    weight = np.zeros((num_joints, num_joints, height, width), np.float32)
    order = range(len(cells)) if joints3d is None else np.argsort(-np.nanmean(joints3d[..., 2], axis=1))
    for person in order:
        bones = bone_vectors(joints3d[person]) if joints3d is not None else None
        for joint in range(num_joints):
            if not visible[person, joint]:
                continue
            x, y = cells[person, joint]
            gauss = np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * HEATMAP_SIGMA_CELLS ** 2))
            np.maximum(heatmaps[joint], gauss, out=heatmaps[joint])
            if bones is not None and np.isfinite(bones).all():
                claim = gauss > ENCODING_SUPPORT
                for triplet in np.flatnonzero(SPARSE_MASK[joint]):
                    encodings[joint, triplet][:, claim] = bones[triplet][:, None]
                    weight[joint, triplet][claim] = gauss[claim]
        for limb, (child, parent) in enumerate(PAF_LIMBS):
            if not (visible[person, child] and visible[person, parent]):
                continue
            start, end = cells[person, child], cells[person, parent]
            delta = end - start
            length = float(np.linalg.norm(delta))
            if length < 1e-3:
                continue
            unit = delta / length
            along = (xs - start[0]) * unit[0] + (ys - start[1]) * unit[1]
            across = np.abs((xs - start[0]) * unit[1] - (ys - start[1]) * unit[0])
            band = (along >= -PAF_WIDTH_CELLS) & (along <= length + PAF_WIDTH_CELLS) & (across <= PAF_WIDTH_CELLS)
            pafs[2 * limb][band] += unit[0]
            pafs[2 * limb + 1][band] += unit[1]
            paf_count[limb][band] += 1
    pafs /= np.maximum(np.repeat(paf_count, 2, axis=0), 1.0)
    paf_mask = np.repeat(annotated[PAF_LIMBS[:, 0]] & annotated[PAF_LIMBS[:, 1]], 2).astype(np.float32)
    # Triplet t can be claimed at a pixel by joint t and by t's parent (the same bone); keep the strongest.
    best = weight.argmax(axis=0)                                                     # (J triplets, h, w)
    enc = np.take_along_axis(encodings, best[None, :, None], axis=0)[0]              # (J, 3, h, w)
    enc_weight = np.take_along_axis(weight, best[None], axis=0)[0]                   # (J, h, w)
    return Stage1Targets(heatmaps=heatmaps * annotated[:, None, None], pafs=pafs,
                         encodings=enc.reshape(3 * num_joints, height, width),
                         heatmap_mask=annotated.astype(np.float32), paf_mask=paf_mask,
                         encoding_weight=np.repeat(enc_weight, 3, axis=0))
