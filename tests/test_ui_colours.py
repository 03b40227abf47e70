"""One performer, one colour and one id: the video overlay and the 3D avatar agree.

The overlay is drawn by the same path the pipeline worker uses (:func:`ui.frame_view.display_image`),
the avatar by the real 3D view; with the models, a real run shows that every fitted performer's id
is also the track id its 2D skeleton is drawn with (Stage III's tracked observations).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from mocap_app.overlay import performer_colour  # noqa: E402
from mocap_app.skeletons import RIG  # noqa: E402
from mocap_app.types import FrameObservations, MotionFrame, Observation  # noqa: E402
from ui.frame_view import display_image  # noqa: E402
from ui.skeleton_view import SkeletonView  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from ui_support import (  # noqa: E402
    coloured_pixels,
    open_window,
    qimage_rgb,
    require_models,
    run_to_end,
    wait_for_3d_view,
    write_people_video,
)

PERFORMERS = (0, 1, 4)
IMAGE_SIZE = (640, 480)
#: Pixels per metre and the feet's image row when laying the rig's rest pose into an image.
PX_PER_M = 120.0
FEET_ROW = 420.0


def observation(track_id: int, centre_x: float) -> Observation:
    """The rig's rest pose as a 2D person standing at ``centre_x`` pixels."""
    rest = RIG.rest_positions()
    joints = np.column_stack([centre_x + PX_PER_M * rest[:, 0], FEET_ROW - PX_PER_M * (rest[:, 1] - rest[:, 1].min())])
    bbox = np.array([joints[:, 0].min(), joints[:, 1].min(), joints[:, 0].max(), joints[:, 1].max()])
    return Observation(RIG.name, joints.astype(np.float32), np.ones(RIG.num_joints, np.float32),
                       bbox.astype(np.float32), track_id=track_id)


def motion(performer_id: int, x_m: float) -> MotionFrame:
    positions = RIG.rest_positions() + np.array([x_m, -1.2, -3.0])
    return MotionFrame(performer_id, 0, 0.0, positions[0], np.tile([0.0, 0.0, 0.0, 1.0], (RIG.num_joints, 1)),
                       positions)


def test_overlay_and_avatar_use_the_same_colour_per_performer(qtbot):
    frame = np.full((IMAGE_SIZE[1], IMAGE_SIZE[0], 3), 40, np.uint8)
    people = tuple(observation(pid, 140 + 180 * i) for i, pid in enumerate(PERFORMERS))
    overlay = qimage_rgb(display_image(frame, IMAGE_SIZE, FrameObservations(0, 0.0, *IMAGE_SIZE, people)))

    view = SkeletonView()
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    qtbot.waitExposed(view)
    wait_for_3d_view(qtbot, view)
    view.set_pose([motion(pid, 0.8 * (i - 1)) for i, pid in enumerate(PERFORMERS)])
    qtbot.waitUntil(lambda: view.performer_ids() == sorted(PERFORMERS), timeout=2000)
    qtbot.wait(100)
    avatars = qimage_rgb(view.grabFramebuffer())

    for pid in PERFORMERS:
        colour = performer_colour(pid)
        assert coloured_pixels(overlay, colour) > 150, f"performer {pid} missing from the overlay"
        assert coloured_pixels(avatars, colour) > 100, f"performer {pid} missing from the 3D view"
        # In the video each person is drawn where they stand, in their own colour only.
        left, right = 140 + 180 * PERFORMERS.index(pid) - 90, 140 + 180 * PERFORMERS.index(pid) + 90
        others = [performer_colour(p) for p in PERFORMERS if p != pid]
        assert all(coloured_pixels(overlay[:, left:right], c) == 0 for c in others)


def test_fitted_performers_are_drawn_with_their_own_id(qtbot, shared_data: Path, tmp_path: Path):
    require_models()
    window = open_window(qtbot, tmp_path)
    results = []
    window.frame_processed.connect(results.append)
    run_to_end(qtbot, window, write_people_video(shared_data, tmp_path / "people.avi"))
    fitted = [r for r in results if r.motion]
    assert fitted, "no frame produced a fitted performer"
    for result in fitted:
        drawn = {person.track_id for person in result.observations.people}
        assert {m.performer_id for m in result.motion} <= drawn, f"frame {result.frame}: ids differ"
    shown = set(window.view3d.performer_ids())
    assert shown <= {m.performer_id for m in results[-1].motion}
