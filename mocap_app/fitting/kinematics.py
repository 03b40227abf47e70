"""Vectorised forward kinematics of the rig and its Jacobian with respect to the fit parameters.

The parameter vector (``P = 6 + NUM_JOINT_ANGLES`` values) is::

    [tx, ty, tz,  rx, ry, rz,  q_1 ... q_N]

* ``t`` is the world position of the root joint (Hips), metres.
* ``r`` are three small Euler increments (x, then y, then z, intrinsic) applied after the root's
  *anchor* orientation; the fitter folds them into the anchor after every frame, so they stay
  near zero and never meet gimbal lock however the performer turns.
* ``q`` are the joint angles of :data:`mocap_app.skeletons.kinematic.RIG_DOFS`, radians.

Joint ``j``'s world rotation is ``W_j = W_parent @ L_j`` and its position
``p_j = p_parent + W_parent @ offset_j`` (the BVH convention), so the derivative of any point
``p_i`` below joint ``j`` with respect to an angle of ``j`` about the world axis ``w`` is
``w x (p_i - p_j)``: the whole Jacobian is a handful of array operations, no Python per joint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..skeletons import RIG
from ..skeletons.kinematic import NUM_JOINT_ANGLES, RIG_DOFS
from ..skeletons.schema import SkeletonSchema

#: Number of root parameters (translation + rotation increments) ahead of the joint angles.
ROOT_DOFS = 6
#: Total number of fit parameters.
NUM_PARAMS = ROOT_DOFS + NUM_JOINT_ANGLES


@dataclass(frozen=True)
class Pose:
    """Forward kinematics of one parameter vector.

    Attributes:
        positions: (J, 3) world joint positions, metres.
        world_rotations: (J, 3, 3) world rotation of each joint.
        local_rotations: (J, 3, 3) rotation of each joint relative to its parent (root: global).
        jacobian: (J, 3, P) d positions / d params, or ``None`` when not asked for.
    """

    positions: np.ndarray
    world_rotations: np.ndarray
    local_rotations: np.ndarray
    jacobian: np.ndarray | None


def elementary_rotations(axes: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(D, 3, 3) rotations by ``angles`` (D,) radians about the coordinate ``axes`` (D,) in {0, 1, 2}."""
    count = len(axes)
    c, s = np.cos(angles), np.sin(angles)
    result = np.zeros((count, 3, 3))
    i, j = (axes + 1) % 3, (axes + 2) % 3
    rows = np.arange(count)
    result[rows, axes, axes] = 1.0
    result[rows, i, i] = c
    result[rows, j, j] = c
    result[rows, i, j] = -s
    result[rows, j, i] = s
    return result


class RigKinematics:
    """Forward kinematics and Jacobians of a parent-first rig with a fixed DOF layout.

    Example:
        >>> kin = RigKinematics()
        >>> pose = kin.forward(kin.zero_params(), np.eye(3), RIG.rest_offsets, jacobian=True)
        >>> pose.jacobian.shape
        (22, 3, 37)
    """

    def __init__(self, schema: SkeletonSchema = RIG) -> None:
        self.schema = schema
        self.num_joints = schema.num_joints
        self.parents = np.asarray(schema.parents)
        joint_of, axis_of, slot_of = [0, 0, 0], [0, 1, 2], [0, 1, 2]
        for dofs in RIG_DOFS:
            index = schema.index(dofs.joint)
            for slot, axis in enumerate(dofs.axes):
                joint_of.append(index)
                axis_of.append(axis)
                slot_of.append(slot)
        #: (D,) joint, axis and slot (order within its joint) of every rotational DOF; root first.
        self.dof_joint = np.array(joint_of)
        self.dof_axis = np.array(axis_of)
        self.dof_slot = np.array(slot_of)
        self.lower = np.concatenate([np.full(3, -np.inf)] + [d.lower for d in RIG_DOFS])
        self.upper = np.concatenate([np.full(3, np.inf)] + [d.upper for d in RIG_DOFS])
        self.prior = np.concatenate([np.zeros(3)] + [d.prior for d in RIG_DOFS])
        # Joints grouped by depth so the chain product is one array op per tree level.
        depth = np.zeros(self.num_joints, dtype=np.int64)
        for j in range(1, self.num_joints):
            depth[j] = depth[self.parents[j]] + 1
        self._levels = [(level, self.parents[level]) for level in
                        (np.flatnonzero(depth == d) for d in range(1, depth.max() + 1))]
        # ancestor[j, i]: joint j is i or an ancestor of i (so j's rotations move i).
        ancestor = np.eye(self.num_joints, dtype=bool)
        for i in range(self.num_joints):
            p = self.parents[i]
            while p >= 0:
                ancestor[p, i] = True
                p = self.parents[p]
        self._moves = ancestor[self.dof_joint].astype(np.float64)  # (D, J)
        self._slots = [(dofs, self.dof_joint[dofs]) for dofs in
                       (np.flatnonzero(self.dof_slot == k) for k in range(self.dof_slot.max() + 1))]
        self._identity = np.broadcast_to(np.eye(3), (self.num_joints, 3, 3)).copy()
        self._dof_parent = np.maximum(self.parents[self.dof_joint], 0)
        self._root_dofs = self.dof_joint == 0
        self._dof_range = np.arange(len(self.dof_joint))

    def zero_params(self) -> np.ndarray:
        """(P,) parameters of the T-pose at the origin (relative to the anchor)."""
        return np.zeros(NUM_PARAMS)

    def forward(self, params: np.ndarray, anchor: np.ndarray, offsets: np.ndarray, jacobian: bool = False) -> Pose:
        """Pose of the rig.

        Args:
            params: (P,) fit parameters (see the module docstring).
            anchor: (3, 3) the root's orientation that the root increments apply to.
            offsets: (J, 3) this performer's rest offsets, metres (row 0 is ignored: the root sits
                at ``params[:3]``).
            jacobian: also compute d positions / d params.
        """
        angles = np.asarray(params[3:], dtype=np.float64)
        elementary = elementary_rotations(self.dof_axis, angles)  # (D, 3, 3)
        local = self._identity.copy()
        local[0] = anchor
        frames = np.empty_like(elementary)  # frame each DOF's axis is expressed in (parent side)
        for slot_dofs, joints in self._slots:
            frames[slot_dofs] = local[joints]
            local[joints] = local[joints] @ elementary[slot_dofs]
        world = np.empty_like(local)
        positions = np.empty((self.num_joints, 3))
        world[0] = local[0]
        positions[0] = params[:3]
        offsets_col = np.asarray(offsets, dtype=np.float64)[:, :, None]
        for level, parent in self._levels:
            parent_world = world[parent]
            world[level] = parent_world @ local[level]
            positions[level] = positions[parent] + (parent_world @ offsets_col[level])[:, :, 0]
        jac = None
        if jacobian:
            parent_world = world[self._dof_parent]
            parent_world[self._root_dofs] = np.eye(3)
            axes = (parent_world @ frames)[self._dof_range, :, self.dof_axis]  # (D, 3) world axes
            skew_t = np.zeros((len(axes), 3, 3))  # rows @ skew_t == cross(axis, rows)
            skew_t[:, 1, 0], skew_t[:, 2, 0] = -axes[:, 2], axes[:, 1]
            skew_t[:, 0, 1], skew_t[:, 2, 1] = axes[:, 2], -axes[:, 0]
            skew_t[:, 0, 2], skew_t[:, 1, 2] = -axes[:, 1], axes[:, 0]
            lever = positions[None, :, :] - positions[self.dof_joint][:, None, :]  # (D, J, 3)
            rot = (lever @ skew_t) * self._moves[:, :, None]  # (D, J, 3)
            jac = np.empty((self.num_joints, 3, NUM_PARAMS))
            jac[:, :, :3] = np.eye(3)
            jac[:, :, 3:] = rot.transpose(1, 2, 0)
        return Pose(positions=positions, world_rotations=world, local_rotations=local, jacobian=jac)

    def positions_from_local(self, root_position: np.ndarray, local_rotations: np.ndarray,
                             offsets: np.ndarray) -> np.ndarray:
        """(J, 3) world positions from a root position (3,) and (J, 3, 3) local rotations.

        For poses that did not come from parameters (e.g. filtered rotations of a fitted pose).
        """
        world = np.empty_like(local_rotations)
        positions = np.empty((self.num_joints, 3))
        world[0], positions[0] = local_rotations[0], root_position
        offsets_col = np.asarray(offsets, dtype=np.float64)[:, :, None]
        for level, parent in self._levels:
            world[level] = world[parent] @ local_rotations[level]
            positions[level] = positions[parent] + (world[parent] @ offsets_col[level])[:, :, 0]
        return positions
