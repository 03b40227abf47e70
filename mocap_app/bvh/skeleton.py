"""The two data types of a BVH file: its hierarchy (:class:`BVHSkeleton`) and its motion (:class:`BVHMotion`).

Both keep the file's own units and channel layout, so reading and writing a file changes nothing.
Position channels replace a joint's OFFSET (the reading of Blender, MotionBuilder and most exporters:
the root's Xposition/Yposition/Zposition are where the root is, not a displacement from its offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .euler import euler_to_matrix

#: Channel names as written; reading matches them case-insensitively.
POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
CHANNEL_NAMES = POSITION_CHANNELS + ROTATION_CHANNELS
_AXIS_INDEX = {"X": 0, "Y": 1, "Z": 2}


def channel_axis(channel: str) -> int:
    """0, 1 or 2 for a channel of the x, y or z axis."""
    return _AXIS_INDEX[channel[0]]


def is_rotation(channel: str) -> bool:
    """Whether a (canonical) channel name is a rotation channel."""
    return channel.endswith("rotation")


@dataclass(frozen=True, eq=False)
class BVHSkeleton:
    """A BVH hierarchy, in the file's units.

    Attributes:
        names: joint names in file order (parents before children).
        parents: parent index per joint, -1 for a root.
        offsets: (J, 3) float64 offset of each joint from its parent, file units.
        channels: per joint, its channel names in file order, e.g. ``("Xposition", ..., "Zrotation", ...)``.
        end_sites: joint index -> (3,) End Site offset below that joint, file units.

    Example:
        >>> skeleton = BVHSkeleton(("Hips", "Spine"), (-1, 0), np.array([[0, 90, 0], [0, 10, 0.]]),
        ...                        (POSITION_CHANNELS + ("Zrotation", "Xrotation", "Yrotation"),
        ...                         ("Zrotation", "Xrotation", "Yrotation")), {1: np.array([0, 20, 0.])})
        >>> skeleton.num_channels
        9
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    end_sites: dict[int, np.ndarray]

    def __post_init__(self) -> None:
        count = len(self.names)
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "parents", tuple(int(p) for p in self.parents))
        object.__setattr__(self, "offsets", np.asarray(self.offsets, dtype=np.float64).reshape(-1, 3))
        object.__setattr__(self, "channels", tuple(tuple(c) for c in self.channels))
        object.__setattr__(self, "end_sites", {int(j): np.asarray(o, dtype=np.float64).reshape(3)
                                               for j, o in self.end_sites.items()})
        if count == 0:
            raise ValueError("A BVH skeleton needs at least one joint.")
        if len(set(self.names)) != count:
            raise ValueError("BVH joint names must be unique.")
        if len(self.parents) != count or len(self.channels) != count or self.offsets.shape != (count, 3):
            raise ValueError(f"names, parents, channels and offsets must all describe {count} joints.")
        for index, parent in enumerate(self.parents):
            if not -1 <= parent < index:
                raise ValueError(f"Parent of joint {self.names[index]!r} must come before it (got {parent}).")
        for name, joint_channels in zip(self.names, self.channels, strict=True):
            unknown = [c for c in joint_channels if c not in CHANNEL_NAMES]
            if unknown or len(set(joint_channels)) != len(joint_channels):
                raise ValueError(f"Joint {name!r} has invalid or repeated channels {joint_channels}.")
        if any(not 0 <= j < count for j in self.end_sites):
            raise ValueError("End sites must belong to joints of the skeleton.")

    @property
    def num_joints(self) -> int:
        return len(self.names)

    @cached_property
    def channel_starts(self) -> np.ndarray:
        """(J + 1,) index of each joint's first channel in a motion row; the last entry is the total."""
        return np.concatenate([[0], np.cumsum([len(c) for c in self.channels])]).astype(np.int64)

    @property
    def num_channels(self) -> int:
        return int(self.channel_starts[-1])

    def index(self, name: str) -> int:
        """Index of a joint by name, with an error listing the valid names."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"{name!r} is not a joint of this BVH; valid: {', '.join(self.names)}") from None

    def rotation_axes(self, joint: int) -> str:
        """The joint's rotation channels as axis letters in file order, e.g. ``"ZXY"``; ``""`` for none."""
        return "".join(c[0] for c in self.channels[joint] if is_rotation(c))

    def rest_positions(self) -> np.ndarray:
        """(J, 3) joint positions with every rotation zero and each joint at its OFFSET, file units."""
        positions = np.zeros((self.num_joints, 3))
        for joint, parent in enumerate(self.parents):
            positions[joint] = self.offsets[joint] + (positions[parent] if parent >= 0 else 0.0)
        return positions


@dataclass(frozen=True, eq=False)
class BVHMotion:
    """A BVH take: a skeleton and one row of raw channel values per frame.

    Attributes:
        skeleton: the hierarchy the channels belong to.
        frame_time: seconds per frame, > 0.
        values: (F, C) float64 channel values exactly as in the file: degrees for rotations,
            file units for positions; column order is the skeleton's channel order.
    """

    skeleton: BVHSkeleton
    frame_time: float
    values: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.skeleton.num_channels:
            raise ValueError(f"values must be (frames, {self.skeleton.num_channels}), got {values.shape}.")
        if not np.isfinite(self.frame_time) or self.frame_time <= 0:
            raise ValueError(f"frame_time must be a positive number of seconds, got {self.frame_time}.")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "frame_time", float(self.frame_time))

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def duration(self) -> float:
        """Seconds covered by the take: every frame lasts one frame time."""
        return self.num_frames * self.frame_time

    def local_translations(self) -> np.ndarray:
        """(F, J, 3) each joint's translation from its parent: its OFFSET, replaced per axis by position channels."""
        skeleton = self.skeleton
        result = np.repeat(skeleton.offsets[None], self.num_frames, axis=0)
        for joint, joint_channels in enumerate(skeleton.channels):
            start = skeleton.channel_starts[joint]
            for column, channel in enumerate(joint_channels, start=start):
                if not is_rotation(channel):
                    result[:, joint, channel_axis(channel)] = self.values[:, column]
        return result

    def root_positions(self) -> np.ndarray:
        """(F, 3) position of the (first) root joint per frame, file units."""
        return self.local_translations()[:, 0]

    def local_rotations(self) -> np.ndarray:
        """(F, J, 3, 3) each joint's rotation relative to its parent (identity where it has none)."""
        skeleton = self.skeleton
        # Built joint-major (J, F, 3, 3) and returned as a transposed view: forward kinematics walks
        # joints, and contiguous per-joint blocks make its matrix products several times faster.
        result = np.empty((skeleton.num_joints, self.num_frames, 3, 3))
        result[:] = np.eye(3)
        groups: dict[str, list[int]] = {}
        for joint in range(skeleton.num_joints):
            axes = skeleton.rotation_axes(joint)
            if axes:
                groups.setdefault(axes, []).append(joint)
        for axes, joints in groups.items():  # one vectorised conversion per rotation order
            columns = [[skeleton.channel_starts[j] + k for k, c in enumerate(skeleton.channels[j]) if is_rotation(c)]
                       for j in joints]
            result[joints] = euler_to_matrix(self.values[:, np.array(columns)].transpose(1, 0, 2), axes)
        return result.transpose(1, 0, 2, 3)
