"""Fast paths of the fitter: quaternions from matrices, the 3x3 depth solve."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.fitting.depth import _solve_3x3
from mocap_app.fitting.kinematics import quaternions_from_matrices


def test_quaternions_match_scipy_including_half_turns():
    turns = Rotation.from_rotvec(np.pi * np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.6, -0.8, 0], [0, 0, 0]]))
    matrices = np.concatenate([Rotation.random(300, random_state=3).as_matrix(), turns.as_matrix()])
    ours, theirs = quaternions_from_matrices(matrices), Rotation.from_matrix(matrices).as_quat()
    np.testing.assert_allclose(np.abs(np.sum(ours * theirs, axis=1)), 1.0, atol=1e-12)


def test_solve_3x3_matches_lapack_and_rejects_singular():
    rng = np.random.default_rng(0)
    matrix, rhs = rng.normal(size=(3, 3)), rng.normal(size=3)
    np.testing.assert_allclose(_solve_3x3(matrix, rhs), np.linalg.solve(matrix, rhs), atol=1e-10)
    assert _solve_3x3(np.ones((3, 3)), rhs) is None
