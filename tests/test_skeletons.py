"""The canonical skeleton and the joint-set mappings."""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.skeletons import (
    BLAZEPOSE33,
    COCO17,
    MPI3DHP17,
    MPI3DHP_ROOT,
    RIG,
    RIG_REST_HEIGHT_M,
    SKELETONS,
    VNECT21,
    get_mapping,
    get_skeleton,
    map_joints,
)

ANIMATOR_NAMES = ["Hips", "Spine", "Spine1", "Neck", "Head", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
                  "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase"]


def test_rig_has_animator_names_on_both_sides():
    for name in ANIMATOR_NAMES:
        assert name in RIG.joints
        assert name.replace("Left", "Right") in RIG.joints
    assert 20 <= RIG.num_joints <= 24
    assert RIG.parents[0] == -1 and all(p >= 0 for p in RIG.parents[1:])


def test_rig_rest_pose_is_an_upright_t_pose():
    rest = RIG.rest_positions()
    left_hand, right_hand = rest[RIG.index("LeftHand")], rest[RIG.index("RightHand")]
    assert left_hand[0] > 0.5 and right_hand[0] < -0.5            # arms out sideways, left towards +x
    assert abs(left_hand[1] - rest[RIG.index("LeftArm")][1]) < 1e-9  # horizontal arms
    assert rest[RIG.index("LeftToeBase")][2] > rest[RIG.index("LeftFoot")][2]  # toes point forward (+z)
    feet = rest[[RIG.index("LeftToeBase"), RIG.index("RightToeBase")], 1]
    assert np.all(feet >= 0) and np.all(feet < 0.05)             # standing on the floor
    assert 1.6 < RIG_REST_HEIGHT_M < 1.9


def test_mirror_is_an_involution():
    for schema in SKELETONS.values():
        mirror = schema.mirror_indices
        assert np.array_equal(mirror[mirror], np.arange(schema.num_joints)), schema.name
    assert RIG.mirror[RIG.index("LeftHand")] == "RightHand"
    assert COCO17.mirror[COCO17.index("left_knee")] == "right_knee"


def test_published_orders():
    assert COCO17.num_joints == 17 and COCO17.joints[0] == "nose" and COCO17.joints[16] == "right_ankle"
    assert BLAZEPOSE33.num_joints == 33 and BLAZEPOSE33.joints[32] == "right_foot_index"
    assert MPI3DHP17.num_joints == 17 and MPI3DHP17.index(MPI3DHP_ROOT) == 14  # "root = joint #15"
    assert VNECT21.num_joints == 21 and VNECT21.joints[:17] == MPI3DHP17.joints


@pytest.mark.parametrize("source", ["coco17", "blazepose33", "mpi3dhp17", "vnect21"])
def test_every_consumed_set_maps_to_the_rig(source):
    schema = get_skeleton(source)
    rng = np.random.default_rng(0)
    points = rng.normal(size=(5, schema.num_joints, 3))
    mapped = map_joints(points, source, RIG.name)
    assert mapped.shape == (5, RIG.num_joints, 3)
    available = get_mapping(source, RIG.name).available
    # Limbs always come through; joints with no source stay NaN rather than being invented.
    for joint in ("Hips", "LeftForeArm", "RightLeg", "LeftFoot"):
        assert available[RIG.index(joint)]
    assert np.isfinite(mapped[:, available]).all() and np.isnan(mapped[:, ~available]).all()


def test_mean_mapping_and_nan_propagation():
    points = np.zeros((COCO17.num_joints, 2))
    points[COCO17.index("left_hip")] = (10, 20)
    points[COCO17.index("right_hip")] = (30, 40)
    hips = map_joints(points, "coco17", RIG.name)[RIG.index("Hips")]
    np.testing.assert_allclose(hips, (20, 30))
    points[COCO17.index("right_hip")] = np.nan
    mapped = map_joints(points, "coco17", RIG.name)
    assert np.isnan(mapped[RIG.index("Hips")]).all() and np.isfinite(mapped[RIG.index("LeftUpLeg")]).all()


def test_confidences_map_with_a_trailing_axis():
    scores = np.linspace(0, 1, BLAZEPOSE33.num_joints)
    mapped = map_joints(scores[:, None], "blazepose33", "coco17")[:, 0]
    np.testing.assert_allclose(mapped, scores[BLAZEPOSE33.indices(COCO17.joints)])


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(KeyError, match="coco17"):
        get_skeleton("coco18")
    with pytest.raises(KeyError, match="known"):
        get_mapping("rig22", "coco17")
    with pytest.raises(KeyError, match="LeftHand"):
        RIG.index("left_hand")
