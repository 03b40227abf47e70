"""Recording takes: journal motion frames as they arrive, export BVH at the end (or after a crash).

:class:`TakeRecorder` writes every :class:`~mocap_app.types.MotionFrame` to a crash-safe journal
(:mod:`.journal`) at once; :meth:`TakeRecorder.finalize` (or ``mocap take recover JOURNAL`` after a
crash) reads the journal back and writes one BVH per performer, optionally also one file with all
performers side by side. Frames arrive at a variable rate; the BVH is resampled to a fixed rate
(linear root, spherical-linear rotations), gaps where a performer was not seen are bridged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from ..bvh import BVHMotion, BVHSkeleton, forward_kinematics, motion_from_rig, write_bvh
from ..conventions import BVH_UNITS_PER_METRE, DEFAULT_EULER_ORDER, opencv_to_world, world_to_opencv
from ..errors import MocapError
from ..fitting.foot_lock import lock_feet
from ..skeletons import RIG
from ..types import MotionFrame
from .journal import JournalWriter, PerformerTake, TakeData, read_journal

logger = logging.getLogger(__name__)

#: Frame rates a resampled take snaps to when none is asked for.
COMMON_FPS = (24.0, 25.0, 30.0, 50.0, 60.0)
COMBINED_NAME = "all_performers.bvh"
#: The take journal inside an export folder: motion is appended as it is fitted, so a crash loses
#: nothing ('mocap take recover' turns it into BVH).
JOURNAL_NAME = "take.journal.jsonl"
#: Height of the toe joints above the floor when standing (the rig's rest pose), metres.
FOOT_CONTACT_OFFSET_M = float(RIG.rest_positions()[RIG.index("LeftToeBase"), 1])


def _estimate_fps(take: TakeData) -> float:
    steps = [np.diff(np.asarray(p.times)) for p in take.performers.values() if len(p.times) > 1]
    steps = np.concatenate(steps) if steps else np.array([])
    steps = steps[steps > 0]
    if not len(steps):
        return 30.0
    fps = 1.0 / float(np.median(steps))
    return min(COMMON_FPS, key=lambda c: abs(c - fps)) if min(abs(c - fps) for c in COMMON_FPS) < 2 else round(fps, 3)


def _resample(take: PerformerTake, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3) roots and (F, J, 4) quaternions at ``times`` (held before the first/after the last sample)."""
    order = np.argsort(take.times, kind="stable")
    src_t = np.asarray(take.times)[order]
    src_t, keep = np.unique(src_t, return_index=True)
    roots = np.stack(take.roots)[order][keep]
    rots = np.stack(take.rotations)[order][keep]
    clipped = np.clip(times, src_t[0], src_t[-1])
    root_out = np.stack([np.interp(clipped, src_t, roots[:, k]) for k in range(3)], axis=1)
    quat_out = np.empty((len(times), RIG.num_joints, 4))
    for joint in range(RIG.num_joints):
        if len(src_t) == 1:
            quat_out[:, joint] = rots[0, joint] / np.linalg.norm(rots[0, joint])
        else:
            quat_out[:, joint] = Slerp(src_t, Rotation.from_quat(rots[:, joint]))(clipped).as_quat()
    return root_out, quat_out


def export_take(take: TakeData, export_dir: str | Path, fps: float | None = None, combined: bool = False,
                order: str = DEFAULT_EULER_ORDER, foot_lock: bool = True) -> list[Path]:
    """Write one BVH per performer (``performer_<id>.bvh``) and optionally ``all_performers.bvh``.

    ``foot_lock``: run the whole-take foot-lock pass (:mod:`mocap_app.fitting.foot_lock`) on the
    resampled motion, so planted feet do not slide in the file.

    Returns:
        The files written.

    Raises:
        MocapError: nothing was recorded.
    """
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    recorded = {pid: p for pid, p in sorted(take.performers.items()) if p.times}
    if not recorded:
        raise MocapError("The take holds no motion (no performer was fitted); nothing to export.")
    fps = fps or _estimate_fps(take)
    written, motions = [], {}
    resampled = {}
    for pid, performer in recorded.items():
        start, end = min(performer.times), max(performer.times)
        times = start + np.arange(int(np.floor((end - start) * fps + 1e-3)) + 1) / fps
        resampled[pid] = (start, *_resample(performer, times))
    if not take.floor_calibrated:
        resampled = place_on_estimated_floor(resampled, {pid: p.offsets for pid, p in recorded.items()})
    for pid, performer in recorded.items():
        start, roots, quats = resampled[pid]
        if foot_lock:
            locked = lock_feet(roots, quats, performer.offsets, fps)
            roots, quats = locked.root_positions, locked.local_rotations
        motion = motion_from_rig(roots, quats, 1.0 / fps, performer.offsets, order)
        path = export_dir / f"performer_{pid}.bvh"
        write_bvh(path, motion)
        written.append(path)
        motions[pid] = (start, motion)
        logger.info("wrote %s (%d frames at %.3g fps)", path, motion.num_frames, fps)
    if combined:
        written.append(_write_combined(motions, fps, export_dir / COMBINED_NAME))
    return written


def _write_combined(motions: dict[int, tuple[float, BVHMotion]], fps: float, path: Path) -> Path:
    """All performers in one file: one ROOT per performer (joints prefixed ``P<id>_``), one timeline."""
    first = min(start for start, _ in motions.values())
    ends = [start + (m.num_frames - 1) / fps for start, m in motions.values()]
    count = int(round((max(ends) - first) * fps)) + 1
    names, parents, offsets, channels, end_sites, columns = [], [], [], [], {}, []
    for pid, (start, motion) in motions.items():
        sk, base = motion.skeleton, len(names)
        names += [f"P{pid}_{n}" for n in sk.names]
        parents += [p + base if p >= 0 else -1 for p in sk.parents]
        offsets.append(sk.offsets)
        channels += list(sk.channels)
        end_sites.update({j + base: o for j, o in sk.end_sites.items()})
        shift = int(round((start - first) * fps))
        index = np.clip(np.arange(count) - shift, 0, motion.num_frames - 1)  # hold outside its own range
        columns.append(motion.values[index])
    skeleton = BVHSkeleton(tuple(names), tuple(parents), np.concatenate(offsets), tuple(channels), end_sites)
    write_bvh(path, BVHMotion(skeleton, 1.0 / fps, np.concatenate(columns, axis=1)))
    return path


class TakeRecorder:
    """Journals motion while it is captured; exports BVH when the take ends.

    Example:
        >>> recorder = TakeRecorder("takes/take-001.journal.jsonl")      # doctest: +SKIP
        >>> recorder.record(stage3.process(frame), stage3.rest_offsets)  # doctest: +SKIP
        >>> recorder.finalize("export/")                                 # doctest: +SKIP
    """

    def __init__(self, journal_path: str | Path, floor_calibrated: bool = True) -> None:
        """``floor_calibrated=False``: the world has no calibrated floor yet; export estimates it from the feet."""
        self.journal_path = Path(journal_path)
        self._writer = JournalWriter(self.journal_path, floor_calibrated=floor_calibrated)
        self._offsets: dict[int, np.ndarray] = {}
        self.frames_recorded = 0

    def record(self, frames: Iterable[MotionFrame],
               rest_offsets: Callable[[int], np.ndarray | None] | None = None) -> None:
        """Append motion frames; ``rest_offsets(performer_id)`` gives bone lengths to journal with them."""
        for frame in frames:
            offsets = rest_offsets(frame.performer_id) if rest_offsets is not None else None
            known = self._offsets.get(frame.performer_id)
            changed = known is None or offsets is None or not np.allclose(known, offsets)
            if offsets is not None and np.isfinite(offsets).all() and changed:
                self._writer.write_performer(frame.performer_id, offsets)
                self._offsets[frame.performer_id] = np.array(offsets)
            self._writer.write_motion(frame)
            self.frames_recorded += 1

    def close(self) -> None:
        """Flush and close the journal (it stays on disk for recovery)."""
        self._writer.close()

    def finalize(self, export_dir: str | Path, fps: float | None = None, combined: bool = False,
                 order: str = DEFAULT_EULER_ORDER, foot_lock: bool = True) -> list[Path]:
        """Close the journal and export it as BVH (see :func:`export_take`)."""
        self.close()
        return export_take(read_journal(self.journal_path), export_dir, fps, combined, order, foot_lock)


def new_journal_path(export_dir: str | Path) -> Path:
    """``export_dir/take.journal.jsonl`` for a new take, creating the folder.

    The journal is appended to, so a new take in a folder that still holds an earlier take's journal
    would be merged with it on export. The earlier journal is renamed (never deleted: it may be the
    only copy of a crashed take) to ``take-<its modification time>.journal.jsonl`` first.
    """
    folder = Path(export_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / JOURNAL_NAME
    if path.is_file() and path.stat().st_size > 0:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
        kept = folder / f"take-{stamp}.journal.jsonl"
        suffix = 1
        while kept.exists():
            suffix += 1
            kept = folder / f"take-{stamp}-{suffix}.journal.jsonl"
        path.rename(kept)
        logger.warning("kept the previous take's journal as %s ('mocap take recover' exports it)", kept)
    return path


def place_on_estimated_floor(motions: dict[int, tuple[float, np.ndarray, np.ndarray]],
                             offsets: dict[int, np.ndarray | None]) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
    """Move an uncalibrated take onto the floor its performers' feet stand on.

    Without a ground-plane calibration the world is the camera turned upright, so the floor is at
    an unknown height and tilt; the floor is estimated from the lowest feet over the take
    (:func:`calibration.uncalibrated.estimate_floor_from_feet`) and every performer's root is
    carried into the world of that floor (y up, floor at y = 0). A take whose feet give no floor
    (too few frames, feet above the camera) is left as it is, with a warning.

    Args:
        motions: performer id -> (start time, (F, 3) root positions, (F, J, 4) local quaternions).
        offsets: performer id -> (J, 3) rest offsets, metres, or ``None`` (the rig's).

    Returns:
        The same mapping with roots moved and root rotations turned.
    """
    from calibration.uncalibrated import estimate_floor_from_feet

    feet = RIG.indices(["LeftFoot", "RightFoot", "LeftToeBase", "RightToeBase"])
    points = []
    for pid, (_, roots, quats) in motions.items():
        world = forward_kinematics(motion_from_rig(roots, quats, 1.0, offsets.get(pid))) / BVH_UNITS_PER_METRE
        points.append(world_to_opencv(world[:, feet]))
    frames = max(len(p) for p in points)
    padded = np.full((frames, len(feet) * len(points), 3), np.nan)
    for index, camera_points in enumerate(points):
        padded[:len(camera_points), index * len(feet):(index + 1) * len(feet)] = camera_points
    try:
        ground = estimate_floor_from_feet(padded, contact_offset_m=FOOT_CONTACT_OFFSET_M)
    except MocapError as exc:
        logger.warning("no floor estimated from the feet (%s); the take keeps the camera's upright frame", exc)
        return motions
    if not np.isfinite(ground.camera_centre_world).all():  # never write NaN into a take
        logger.warning("the feet gave no usable floor; the take keeps the camera's upright frame")
        return motions
    # old world (camera turned upright) -> camera -> the estimated floor's world
    turn = ground.rotation_wc @ world_to_opencv(np.eye(3)).T
    moved = {}
    for pid, (start, roots, quats) in motions.items():
        new_roots = opencv_to_world(world_to_opencv(roots), ground.rotation_wc, ground.camera_centre_world)
        new_quats = quats.copy()
        new_quats[:, 0] = (Rotation.from_matrix(turn) * Rotation.from_quat(quats[:, 0])).as_quat()
        moved[pid] = (start, new_roots, new_quats)
    logger.info("floor estimated from the feet: camera %.2f m above it, tilted %.1f deg down",
                ground.camera_height_m, ground.camera_tilt_deg)
    return moved
