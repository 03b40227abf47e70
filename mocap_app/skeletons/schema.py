"""The one data type every joint set is written in.

Drawing (bone edges), fitting (kinematic chain), BVH export (hierarchy) and the keypoint-set
mappings all read a :class:`SkeletonSchema`; nothing else in the code base spells a joint index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SkeletonSchema:
    """A named joint set with its tree.

    Attributes:
        name: registry key, e.g. ``"coco17"``.
        joints: joint names in the set's own order.
        parents: parent index per joint, -1 for a root. Keypoint sets keep their published order,
            so a parent may come after its child there, and a set may have several roots (COCO's
            face is not attached to the body); rigs with a rest pose are parent-first trees.
        mirror: name of each joint's left/right counterpart (itself when central).
        rest_offsets: (J, 3) offset of each joint from its parent in the rest pose, metres, world
            axes (y up, character facing +z); only for rigs that are exported, else ``None``.
        end_sites: joint name -> (3,) offset of the BVH ``End Site`` below that joint, metres.
    """

    name: str
    joints: tuple[str, ...]
    parents: tuple[int, ...]
    mirror: tuple[str, ...]
    rest_offsets: np.ndarray | None = None
    end_sites: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        count = len(self.joints)
        if len(set(self.joints)) != count:
            raise ValueError(f"Skeleton {self.name!r} has duplicate joint names.")
        if len(self.parents) != count or len(self.mirror) != count:
            raise ValueError(f"Skeleton {self.name!r}: joints, parents and mirror must have the same length.")
        for index, parent in enumerate(self.parents):
            if self.rest_offsets is not None and parent >= index:
                raise ValueError(f"Skeleton {self.name!r}: parent of {self.joints[index]!r} must come before it.")
        if self.rest_offsets is not None and np.shape(self.rest_offsets) != (count, 3):
            raise ValueError(f"Skeleton {self.name!r}: rest_offsets must be ({count}, 3).")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Index of a joint by name, with an error that lists the valid names."""
        try:
            return self.joints.index(joint)
        except ValueError:
            raise KeyError(f"{joint!r} is not a joint of {self.name!r}; valid: {', '.join(self.joints)}") from None

    def indices(self, joints: tuple[str, ...] | list[str]) -> np.ndarray:
        """Indices of several joints by name, as an int array."""
        return np.array([self.index(joint) for joint in joints], dtype=np.int64)

    @property
    def bones(self) -> np.ndarray:
        """(B, 2) int pairs (parent, child) for every joint that has a parent."""
        return np.array([(p, c) for c, p in enumerate(self.parents) if p >= 0], dtype=np.int64).reshape(-1, 2)

    @property
    def mirror_indices(self) -> np.ndarray:
        """(J,) index of each joint's left/right counterpart, for flip augmentation and checks."""
        return self.indices(self.mirror)

    def children(self, joint: int) -> list[int]:
        """Indices of the direct children of joint ``joint``."""
        return [c for c, p in enumerate(self.parents) if p == joint]

    def rest_positions(self) -> np.ndarray:
        """(J, 3) joint positions of the rest pose in world axes, metres, root at its offset."""
        if self.rest_offsets is None:
            raise ValueError(f"Skeleton {self.name!r} has no rest pose.")
        positions = np.zeros((self.num_joints, 3))
        for index, parent in enumerate(self.parents):
            base = positions[parent] if parent >= 0 else np.zeros(3)
            positions[index] = base + self.rest_offsets[index]
        return positions


def mirrored_names(joints: tuple[str, ...], left: str = "left", right: str = "right") -> tuple[str, ...]:
    """Left/right counterpart of each name by swapping the prefix (case kept), itself when central."""
    swaps = ((left, right), (right, left), (left.capitalize(), right.capitalize()),
             (right.capitalize(), left.capitalize()))
    result = []
    for joint in joints:
        counterpart = joint
        for a, b in swaps:
            if joint.startswith(a):
                counterpart = b + joint[len(a):]
                break
        result.append(counterpart)
    return tuple(result)
