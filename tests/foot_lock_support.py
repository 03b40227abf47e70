"""A standing performer for the foot-lock tests: feet flat on the floor, knees slightly bent."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.skeletons import RIG

#: Root 2 cm below the rest pose's, so the bent legs still reach the floor.
STANDING_ROOT = RIG.rest_offsets[0] - [0, 0.02, 0]


def standing_take(frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3) root positions (metres) and (F, J, 4) local quaternions of a performer standing still."""
    roots = np.tile(STANDING_ROOT, (frames, 1))
    quats = np.tile([0.0, 0.0, 0.0, 1.0], (frames, RIG.num_joints, 1))
    for side in ("Left", "Right"):
        quats[:, RIG.index(f"{side}UpLeg")] = Rotation.from_euler("x", -10, degrees=True).as_quat()
        quats[:, RIG.index(f"{side}Leg")] = Rotation.from_euler("x", 20, degrees=True).as_quat()
        quats[:, RIG.index(f"{side}Foot")] = Rotation.from_euler("x", -10, degrees=True).as_quat()
    return roots, quats
