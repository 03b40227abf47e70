"""A motion the project makes itself: a parametric walk that slows to a stop and turns into a wave.

No third-party data: every joint angle is a sinusoid (or a smooth bump) of the gait phase with
textbook amplitudes (hip flexion +-22 degrees, knee up to 60 degrees in swing, arm swing opposite to
the legs), on the application's own rig (:data:`~mocap_app.skeletons.RIG`). The root is not
scripted: each frame it moves by exactly what keeps the stance foot where it was, so the feet do
not slide, and it bobs so the lowest foot stays on the floor. After ``walk_fraction`` of the clip
the stride fades out while the body turns to the camera and the right hand waves.

The take is rig joint rotations (quaternions) and a root path, so it exports directly as BVH
(:meth:`ParametricTake.to_bvh`) and becomes a renderable performer through the same path as any
BVH take (:func:`performer_motion`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..bvh import BVHMotion, forward_kinematics, motion_from_rig
from ..conventions import BVH_UNITS_PER_METRE
from ..skeletons import RIG
from .appearance import Appearance
from .motion import PerformerMotion, driving_poses, proportions, retarget

SOURCE_NAME = "parametric walk and wave"
#: Seconds per gait cycle (two steps): about 110 steps a minute.
CYCLE_S = 1.1
HIP_FLEX_DEG = 22.0
HIP_FLEX_OFFSET_DEG = 4.0
KNEE_STANCE_DEG = 6.0
KNEE_SWING_DEG = 58.0
#: Phase lead of the knee's swing bump over the hip's sine, radians.
KNEE_PHASE = 0.35
ANKLE_SWING_DEG = 10.0
ARM_DOWN_DEG = 78.0
ARM_SWING_DEG = 16.0
ELBOW_DEG = 14.0
ELBOW_SWING_DEG = 10.0
PELVIS_TWIST_DEG = 4.0
TRUNK_LEAN_DEG = 3.0
#: Heading while walking (0 faces a camera at yaw 0) and when waving, degrees.
WALK_HEADING_DEG = 60.0
WAVE_HEADING_DEG = 10.0
#: Right upper arm raised above horizontal, brought forward; forearm up, swinging side to side.
WAVE_ARM_DEG = 20.0
WAVE_FORWARD_DEG = 20.0
WAVE_SWING_DEG = 25.0
WAVE_HZ = 2.0
#: Seconds over which the walk fades into the wave.
BLEND_S = 0.8
#: Depth of the sole below the ankle and the toe joint for the rig's 1.73 m, metres.
_SOLE = {"Foot": 0.08, "ToeBase": 0.035}


@dataclass(frozen=True, eq=False)
class ParametricTake:
    """A take of the rig.

    Attributes:
        root_positions: (F, 3) float64 world position of Hips, metres (y up, floor y = 0).
        local_rotations: (F, J, 4) float64 unit quaternions (x, y, z, w), T-pose relative; row 0 global.
        fps: frames per second.
    """

    root_positions: np.ndarray
    local_rotations: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.root_positions.shape[0])

    def to_bvh(self) -> BVHMotion:
        """The take as a BVH motion of the rig (centimetres, T-pose rest, default Euler order)."""
        return motion_from_rig(self.root_positions, self.local_rotations, 1.0 / self.fps)


def _rx(deg: np.ndarray) -> Rotation:
    return Rotation.from_rotvec(np.deg2rad(deg)[:, None] * np.array([1.0, 0.0, 0.0]))


def _ry(deg: np.ndarray) -> Rotation:
    return Rotation.from_rotvec(np.deg2rad(deg)[:, None] * np.array([0.0, 1.0, 0.0]))


def _rz(deg: np.ndarray) -> Rotation:
    return Rotation.from_rotvec(np.deg2rad(deg)[:, None] * np.array([0.0, 0.0, 1.0]))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _rotations(t: np.ndarray, walk: np.ndarray) -> np.ndarray:
    """(F, J, 4) local rotations at times ``t`` (s) with walk weight ``walk`` (1 walking, 0 waving)."""
    wave = 1.0 - walk
    phase = 2.0 * np.pi * t / CYCLE_S
    rot = {name: Rotation.identity(len(t)) for name in RIG.joints}
    rot["Hips"] = _ry(WAVE_HEADING_DEG + walk * (WALK_HEADING_DEG - WAVE_HEADING_DEG)
                      + walk * PELVIS_TWIST_DEG * np.sin(phase))
    rot["Spine"] = _ry(-walk * PELVIS_TWIST_DEG * np.sin(phase))
    rot["Spine1"] = _rx(walk * TRUNK_LEAN_DEG)
    for side, offset in (("Left", 0.0), ("Right", np.pi)):
        p = phase + offset
        swing = np.maximum(0.0, np.cos(p + KNEE_PHASE)) ** 2  # knee bump of the swing phase
        rot[f"{side}UpLeg"] = _rx(-walk * (HIP_FLEX_DEG * np.sin(p) + HIP_FLEX_OFFSET_DEG))
        rot[f"{side}Leg"] = _rx(KNEE_STANCE_DEG * walk + walk * KNEE_SWING_DEG * swing)
        rot[f"{side}Foot"] = _rx(-walk * ANKLE_SWING_DEG * swing)
        # Arms hang and swing against the leg of the same side.
        sign = 1.0 if side == "Left" else -1.0
        arm_swing = -walk * ARM_SWING_DEG * np.sin(p)
        rot[f"{side}Arm"] = _rx(-arm_swing) * _rz(-sign * ARM_DOWN_DEG * np.ones_like(t))
        rot[f"{side}ForeArm"] = _ry(-sign * (ELBOW_DEG + walk * ELBOW_SWING_DEG * np.maximum(0.0, np.sin(p))))
    # The right arm rises to the side and the forearm waves above it.
    down = ARM_DOWN_DEG + walk * 0.0
    upper = down + wave * (-WAVE_ARM_DEG - down)
    arm_swing = -walk * ARM_SWING_DEG * np.sin(phase + np.pi)
    rot["RightArm"] = _ry(wave * WAVE_FORWARD_DEG) * _rx(-arm_swing) * _rz(upper)
    forearm_up = -90.0 + WAVE_ARM_DEG + WAVE_SWING_DEG * np.sin(2.0 * np.pi * WAVE_HZ * t)
    rot["RightForeArm"] = _rz(wave * forearm_up) * _ry(walk * (ELBOW_DEG + ELBOW_SWING_DEG))
    return np.stack([rot[name].as_quat() for name in RIG.joints], axis=1)


def _planted_root(rotations: np.ndarray, fps: float) -> np.ndarray:
    """(F, 3) root path that keeps the stance foot still and the lowest sole on the floor, metres."""
    hips_height = float(RIG.rest_offsets[RIG.index("Hips"), 1])
    still = np.tile([0.0, hips_height, 0.0], (len(rotations), 1))
    body = forward_kinematics(motion_from_rig(still, rotations, 1.0 / fps)) / BVH_UNITS_PER_METRE  # (F, J, 3)
    soles = {side: np.stack([body[:, RIG.index(f"{side}{part}"), 1] - depth for part, depth in _SOLE.items()],
                            axis=1).min(axis=1) for side in ("Left", "Right")}
    anchor = {side: body[:, RIG.index(f"{side}ToeBase")] for side in soles}
    root = still.copy()
    for f in range(1, len(rotations)):
        stance = "Left" if soles["Left"][f] <= soles["Right"][f] else "Right"
        step = anchor[stance][f] - anchor[stance][f - 1]
        root[f, [0, 2]] = root[f - 1, [0, 2]] - step[[0, 2]]
    root[:, 1] -= np.minimum(soles["Left"], soles["Right"])
    return root


def walk_and_wave(seconds: float = 4.0, fps: float = 30.0, walk_fraction: float = 0.6) -> ParametricTake:
    """Walk for ``walk_fraction`` of ``seconds``, then stop, face the camera and wave.

    Raises:
        ValueError: a non-positive duration or frame rate, or a fraction outside 0..1.
    """
    if seconds <= 0 or fps <= 0 or not 0.0 <= walk_fraction <= 1.0:
        raise ValueError(f"walk_and_wave needs seconds > 0, fps > 0 and 0 <= walk_fraction <= 1; got {seconds}, "
                         f"{fps}, {walk_fraction}.")
    t = np.arange(max(2, int(round(seconds * fps)))) / fps
    walk = 1.0 - _smoothstep((t - walk_fraction * seconds) / BLEND_S + 0.5)
    rotations = _rotations(t, walk)
    return ParametricTake(root_positions=_planted_root(rotations, fps), local_rotations=rotations, fps=fps)


def performer_motion(take: ParametricTake, look: Appearance) -> PerformerMotion:
    """A renderable performer of ``take`` with the height and proportions of ``look`` (as for BVH takes)."""
    motion = take.to_bvh()
    poses = retarget(driving_poses(motion), proportions(motion), look)
    return PerformerMotion(poses=poses, fps=take.fps, source=SOURCE_NAME)
