"""The Stage II input of one person, built the same way at training (simulation) and at run time.

Per Stage I joint j (``mpi3dhp17``): ``(u, v)`` = pixel position minus the neck's, divided by the
person's 2D size (the larger side of the box around the detected joints, pixels), the detection
confidence, and the 3J encoding vector read at the joint (metres). Undetected joints get zeros in
all of them (thesis Ch. 6.3.2). Flattened per joint: ``[u, v, c, l_0x, l_0y, l_0z, ..., l_16z]``.
Modes without encodings (the 2D-only lifter) leave the encoding block out: ``[u, v, c]`` per joint.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..skeletons.xnect import ANCHOR_JOINT, STAGE1_SET

_NECK = STAGE1_SET.index(ANCHOR_JOINT)
#: Smallest person size used for normalisation, pixels (guards one-joint detections).
MIN_PERSON_PX = 8.0
#: Stage II input variants of the thesis' ablation (Tab. 6.10): which feature groups are kept.
INPUT_MODES: dict[str, tuple[bool, bool, bool]] = {
    #               2D    conf   encodings
    "2d": (True, False, False),
    "2d+conf": (True, True, False),
    "2d+conf+enc": (True, True, True),
}

#: Sidecar key of the 2D-only lifter: the mean bone length (metres) its output poses are scaled to.
NOMINAL_SCALE_KEY = "nominal_bone_m"


def feature_size(mode: str, joints: int = STAGE1_SET.num_joints) -> int:
    """Length of one person's input row in ``mode``: ``J * (3 + 3J)`` with encodings, else ``J * 3``."""
    if mode not in INPUT_MODES:
        raise ValueError(f"Unknown Stage II input mode {mode!r}; valid: {', '.join(INPUT_MODES)}.")
    return joints * (3 + 3 * joints * INPUT_MODES[mode][2])


def person_size(joints2d: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(P,) larger side of the box around each person's visible joints, pixels (>= MIN_PERSON_PX)."""
    big = np.where(visible[..., None], joints2d, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN rows: nobody visible
        extent = np.nanmax(big, axis=-2) - np.nanmin(big, axis=-2)
    return np.maximum(np.nan_to_num(extent, nan=0.0).max(axis=-1), MIN_PERSON_PX)


def stage2_features(joints2d: np.ndarray, confidence: np.ndarray, encodings: np.ndarray | None,
                    visible: np.ndarray, mode: str = "2d+conf+enc") -> np.ndarray:
    """Stage II input rows for P people.

    Args:
        joints2d: (P, J, 2) pixels (anything where not visible).
        confidence: (P, J) in [0, 1].
        encodings: (P, J, 3J) metres, read at each joint; ignored (may be ``None``) in modes without
            encodings.
        visible: (P, J) bool; the neck must be visible for the row to be meaningful.
        mode: a key of :data:`INPUT_MODES` (ablations zero 2D or confidence when they leave it out,
            and drop the encoding block).

    Returns:
        (P, :func:`feature_size` (mode)) float32.
    """
    if mode not in INPUT_MODES:
        raise ValueError(f"Unknown Stage II input mode {mode!r}; valid: {', '.join(INPUT_MODES)}.")
    use_2d, use_conf, use_enc = INPUT_MODES[mode]
    visible = np.asarray(visible, bool)
    size = person_size(joints2d, visible)
    uv = (joints2d - joints2d[:, _NECK:_NECK + 1]) / size[:, None, None]
    uv = np.where(visible[..., None], np.nan_to_num(uv), 0.0) * use_2d
    conf = np.where(visible, confidence, 0.0)[..., None] * use_conf
    groups = [uv, conf]
    if use_enc:
        groups.append(np.where(visible[..., None], np.nan_to_num(encodings), 0.0))
    return np.concatenate(groups, axis=-1).reshape(len(uv), -1).astype(np.float32)
