"""The one place that defines joint sets, the application's BVH rig and the mappings between them.

No joint index literal may appear outside this package: look joints up by name with
``schema.index("LeftFoot")`` or convert whole arrays with :func:`map_joints`.
"""

from .bone_bias import BONE_LENGTH_BIAS, bone_length_bias
from .keypoint_sets import BLAZEPOSE33, COCO17, MPI3DHP17, MPI3DHP_ROOT, VNECT21
from .limbs import LIMB_GROUPS, limb_swap_pairs
from .mappings import SKELETONS, JointMapping, get_mapping, get_skeleton, map_joints
from .rig import RIG, RIG_REST_HEIGHT_M
from .schema import SkeletonSchema

__all__ = [
    "BLAZEPOSE33", "BONE_LENGTH_BIAS", "COCO17", "LIMB_GROUPS", "MPI3DHP17", "MPI3DHP_ROOT", "VNECT21", "RIG",
    "RIG_REST_HEIGHT_M", "SKELETONS", "JointMapping", "SkeletonSchema", "bone_length_bias", "get_mapping",
    "get_skeleton", "limb_swap_pairs", "map_joints",
]
