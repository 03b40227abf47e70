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


def quaternions_from_matrices(matrices: np.ndarray) -> np.ndarray:
    """(N, 4) unit quaternions (x, y, z, w) of (N, 3, 3) rotation matrices (Shepperd's method).

    The same rotations as ``Rotation.from_matrix(m).as_quat()`` (up to the sign of q) at a fraction of
    its cost for the rig's 22 joints; per matrix the largest of |w|, |x|, |y|, |z| is taken from the
    diagonal and the others from off-diagonal sums, so no component loses precision.
    """
    m = np.asarray(matrices, dtype=np.float64)
    m00, m01, m02 = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    m10, m11, m12 = m[:, 1, 0], m[:, 1, 1], m[:, 1, 2]
    m20, m21, m22 = m[:, 2, 0], m[:, 2, 1], m[:, 2, 2]
    # Rows: 4 q_k^2 for k = x, y, z, w (up to the scale every candidate below shares).
    candidates = np.stack([
        [1.0 + m00 - m11 - m22, m01 + m10, m02 + m20, m21 - m12],
        [m01 + m10, 1.0 - m00 + m11 - m22, m12 + m21, m02 - m20],
        [m02 + m20, m12 + m21, 1.0 - m00 - m11 + m22, m10 - m01],
        [m21 - m12, m02 - m20, m10 - m01, 1.0 + m00 + m11 + m22],
    ])  # (4 pivots, 4 components, N)
    pivot = np.argmax(np.stack([m00, m11, m22, m00 + m11 + m22]), axis=0)
    quats = candidates[pivot, :, np.arange(len(m))]  # (N, 4)
    return quats / np.linalg.norm(quats, axis=1, keepdims=True)


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
        #: (J, J) 1 where joint a's offset contributes to joint i's position (a != root, a ancestor-or-self of i).
        self._chain = ancestor.T.astype(np.float64)
        self._chain[:, 0] = 0.0
        self._slots = [(dofs, self.dof_joint[dofs]) for dofs in
                       (np.flatnonzero(self.dof_slot == k) for k in range(self.dof_slot.max() + 1))]
        self._identity = np.broadcast_to(np.eye(3), (self.num_joints, 3, 3)).copy()
        # Flat positions of cos / -sin / +sin in the (D, 3, 3) elementary rotations, and their template.
        count = len(self.dof_axis)
        first, second = (self.dof_axis + 1) % 3, (self.dof_axis + 2) % 3
        base = 9 * np.arange(count)
        self._cos_at = np.concatenate([base + 4 * first, base + 4 * second])
        self._cos_of = np.concatenate([np.arange(count)] * 2)
        self._neg_sin_at = base + 3 * first + second
        self._sin_at = base + 3 * second + first
        self._elementary_template = np.zeros(9 * count)
        self._elementary_template[base + 4 * self.dof_axis] = 1.0
        # Per tree level: (joints, parents) for composing [rotation | offset] 3x4 blocks.
        self._num_dofs = count
        # Index into [identity, world rotations...]: a DOF's parent frame (identity for the root's DOFs).
        self._dof_parent = np.where(self.dof_joint == 0, 0, self.parents[self.dof_joint] + 1)
        self._eye = np.eye(3)[None]
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
        flat = self._elementary_template.copy()
        cos, sin = np.cos(angles), np.sin(angles)
        flat[self._cos_at] = cos[self._cos_of]
        flat[self._neg_sin_at] = -sin
        flat[self._sin_at] = sin
        elementary = flat.reshape(self._num_dofs, 3, 3)
        local = self._identity.copy()
        local[0] = anchor
        frames = np.empty_like(elementary)  # frame each DOF's axis is expressed in (parent side)
        for slot_dofs, joints in self._slots:
            frames[slot_dofs] = local[joints]
            local[joints] = local[joints] @ elementary[slot_dofs]
        # World rotations one matmul per tree level; then every joint's position at once: the root
        # plus its chain's offsets, each turned by its parent's world rotation.
        world = np.empty_like(local)
        world[0] = local[0]
        for level, parent in self._levels:
            world[level] = world[parent] @ local[level]
        turned = np.einsum("jab,jb->ja", world[self.parents], np.asarray(offsets, dtype=np.float64))  # (J, 3)
        turned[0] = 0.0  # (the root sits at params[:3]; its offset row is ignored)
        positions = self._chain @ turned + np.asarray(params[:3], dtype=np.float64)
        jac = None
        if jacobian:
            parent_world = np.concatenate([self._eye, world])[self._dof_parent]
            axes = (parent_world @ frames)[self._dof_range, :, self.dof_axis]  # (D, 3) world axes
            lever = positions[None, :, :] - positions[self.dof_joint][:, None, :]  # (D, J, 3)
            # cross(axis, lever), zero for joints the DOF does not move.
            a = axes[:, None, :]
            rot = np.empty_like(lever)
            rot[..., 0] = a[..., 1] * lever[..., 2] - a[..., 2] * lever[..., 1]
            rot[..., 1] = a[..., 2] * lever[..., 0] - a[..., 0] * lever[..., 2]
            rot[..., 2] = a[..., 0] * lever[..., 1] - a[..., 1] * lever[..., 0]
            rot *= self._moves[:, :, None]
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

