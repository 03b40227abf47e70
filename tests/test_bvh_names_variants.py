"""Both releases of CMU's MotionBuilder-friendly BVH conversion drive the rig (finger tip joint names differ)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocap_app.bvh import read_bvh
from mocap_app.skeletons.bvh_names import rig_sources


@pytest.mark.parametrize(("name", "convention"), [("01_01.bvh", "cmu_motionbuilder_lfingers"),
                                                  ("05_06.bvh", "cmu_motionbuilder")])
def test_motionbuilder_releases_are_recognised(shared_data: Path, name: str, convention: str) -> None:
    names = read_bvh(shared_data / "mocap" / "train" / "cmu_motionbuilder" / name).skeleton.names
    found, table = rig_sources(names)
    assert found == convention
    assert {source for sources in table.values() for source, _ in sources} <= set(names) | {
        f"{joint}/end" for joint in names}
