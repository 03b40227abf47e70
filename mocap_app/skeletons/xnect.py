"""The joint sets of the XNect engine and the layouts derived from them (data only, no torch).

* Stage I works on ``mpi3dhp17`` (MPI-INF-3DHP's 17 joints, pelvis root): 17 heatmaps, one part
  affinity field (x, y) per bone of that tree pointing from the joint to its parent (16 fields), and
  3 x 17 channel-sparse encoding channels: triplet ``j`` holds joint ``j`` minus its parent (metres,
  camera axes), and at joint ``j`` only the triplets of the bones meeting there are supervised
  (``j`` itself and its children). On COCO images the 2D branch is supervised on the joints
  COCO has or implies (the ``coco17 -> mpi3dhp17`` mapping: 15 of the 17; head top and spine masked).
* Stage II outputs ``vnect21`` (the 17 plus hands and foot tips), root-relative, metres.
"""

from __future__ import annotations

import numpy as np

from .keypoint_sets import MPI3DHP17, VNECT21
from .schema import SkeletonSchema

STAGE1_SET: SkeletonSchema = MPI3DHP17
STAGE2_SET: SkeletonSchema = VNECT21
#: A person is only kept when this joint is detected (XNect's rule).
ANCHOR_JOINT = "neck"


def paf_limbs(schema: SkeletonSchema = STAGE1_SET) -> np.ndarray:
    """(B, 2) int (joint, parent): the bone of each PAF channel pair, in schema order."""
    return np.array([(child, parent) for child, parent in enumerate(schema.parents) if parent >= 0], np.int64)


def grouping_order(schema: SkeletonSchema = STAGE1_SET, anchor: str = ANCHOR_JOINT) -> tuple[tuple[int, int, int], ...]:
    """Limbs in breadth-first order outward from ``anchor``: ``(limb index, known joint, new joint)``.

    The tree is walked without regard to bone direction, so every joint is reached from the neck.
    """
    limbs = paf_limbs(schema)
    order: list[tuple[int, int, int]] = []
    reached = {schema.index(anchor)}
    frontier = [schema.index(anchor)]
    while frontier:
        joint = frontier.pop(0)
        for index, (child, parent) in enumerate(limbs):
            for known, new in ((parent, child), (child, parent)):
                if known == joint and new not in reached:
                    order.append((index, int(known), int(new)))
                    reached.add(int(new))
                    frontier.append(int(new))
    return tuple(order)


def sparse_mask(schema: SkeletonSchema = STAGE1_SET) -> np.ndarray:
    """(J, J) bool: row ``j`` marks the encoding triplets supervised at joint ``j`` (itself, children)."""
    mask = np.eye(schema.num_joints, dtype=bool)
    for child, parent in enumerate(schema.parents):
        if parent >= 0:
            mask[parent, child] = True
    root = schema.parents.index(-1)
    mask[root, root] = False                       # the root has no bone to its parent
    return mask


def bone_vectors(joints: np.ndarray, schema: SkeletonSchema = STAGE1_SET) -> np.ndarray:
    """(..., J, 3) joint positions -> (..., J, 3) joint minus parent (zero for the root)."""
    parents = np.array(schema.parents)
    bones = joints - joints[..., np.where(parents >= 0, parents, np.arange(len(parents))), :]
    return bones


def stage2_input_size(schema: SkeletonSchema = STAGE1_SET) -> int:
    """Length of one person's Stage II input: per joint (u, v, confidence, 3J encoding)."""
    return schema.num_joints * (3 + 3 * schema.num_joints)


#: The Stage I layouts, computed once.
PAF_LIMBS = paf_limbs()
GROUPING_ORDER = grouping_order()
SPARSE_MASK = sparse_mask()
for _array in (PAF_LIMBS, SPARSE_MASK):
    _array.setflags(write=False)
