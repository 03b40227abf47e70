"""Who is who among BlazePose's tracked regions and detections: the multi-person geometry.

BlazePose is a single-person model made multi-person by tracking one region per person. Some
decisions need care when people are close (a dancing pair, a crossing):

* whether a detection is someone already tracked. The landmark regions are squares of 2.5 body
  radii, so two people half a metre apart have regions overlapping far more than any box IoU
  threshold would allow; instead a detection is the same person only when both its hip centre and
  its head (the detector's box) lie within :data:`SAME_PERSON_RADII` body radii of a tracked
  person's hips and head (:func:`covers`), :data:`HIDDEN_SAME_PERSON_RADII` when that person was
  hidden from the detector;
* where to look for people the whole-frame detector misses: at 1280x720 the detector sees a
  person at a sixth of their size and merges two overlapping people into one detection; a second
  pass over a square around the tracked people (:func:`zoom_region`) sees them at two to three
  times that size, as the detector was trained;
* where to look for people too small for the whole-frame pass: the detector sees a 640x480 frame
  at 224 pixels, so a person 4 m away has a head of a few pixels; overlapping squares of
  :data:`TILE_FRACTION` of the frame's short side (:func:`detection_tiles`) see them at about
  twice the size; the backend runs one tile per detection run, in turn, so the cost is spread;
* when two tracks have converged on one person (a region drifted onto a neighbour): their body
  landmarks then coincide (median distance under :data:`DUPLICATE_RADII` body radii,
  :func:`same_landmarks`); the track whose landmarks jumped the most since its last frame is the
  one that drifted, and is dropped (:func:`steadiness`);
* whether a new track found a person at all (:func:`confirms_detection`): a detection made on a
  frame with the tracked people hidden may be a false one (a blot of the inpainted background, a
  roof ornament), and the landmark network, given such a region, still returns a confident pose
  somewhere nearby. A real person's landmarks put the hips and the face where the detector put
  them; a made-up pose does not.

Shapes: landmarks (33, 2) image pixels; a person's *anchors* are (2, 2): hip centre, head centre.
"""

from __future__ import annotations

import numpy as np

from engines.preprocessing import SquareRoi

from ..skeletons import BLAZEPOSE33

#: A detection whose hips and head both lie within this many body radii of a tracked person's is
#: that person (a detector's hip keypoint is within about 0.1 radii; two people side by side, even
#: holding hands, are 0.4 radii or more apart at the hips or the head).
SAME_PERSON_RADII = 0.3
#: The same for a tracked person hidden from the detector: only what is left of them (a mask that
#: lagged their motion) can be detected there, so a detection further away is someone else, even
#: one pulled towards them (the detector's hips of a half-hidden dancer are off by up to 0.3 radii).
HIDDEN_SAME_PERSON_RADII = 0.15
#: Two tracks whose body landmarks are this close (median, in body radii) cover one person.
DUPLICATE_RADII = 0.15
#: A new track's landmarks must put the hips within this many body radii of its detection's hip keypoint
#: (real people on the salsa renders: 0.18 at most, the detector's hips of a half-hidden person being
#: pulled towards their partner; made-up poses often 0.25 to 0.4) ...
NEWCOMER_HIP_RADII = 0.22
#: ... and the face within this many of the centre of its detection's (face) box (real: 0.28 at most).
NEWCOMER_FACE_RADII = 0.35
#: Side of the zoomed detection square over the side of the largest tracked region.
ZOOM_MARGIN = 1.15
#: A zoomed pass is worth it only when the square is at most this fraction of the frame's long side.
ZOOM_MAX_FRACTION = 0.7
#: Side of a detection tile over the frame's short side (a tile is seen at 1 / TILE_FRACTION zoom).
TILE_FRACTION = 0.6
#: Least overlap of neighbouring tiles, as a fraction of the tile side (a person on a seam is whole in one).
TILE_OVERLAP = 0.25
#: Landmark region side over the body radius (MediaPipe's 1.25 scale of a circle of that radius).
ROI_SIDE_PER_RADIUS = 2.5

_HIPS = BLAZEPOSE33.indices(["left_hip", "right_hip"])
_FACE = BLAZEPOSE33.indices(["nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right"])
#: The 11 face landmarks (nose, eyes, ears, mouth).
FACE_LANDMARKS = BLAZEPOSE33.indices(["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner",
                                      "right_eye", "right_eye_outer", "left_ear", "right_ear", "mouth_left",
                                      "mouth_right"])
#: (33,) bool: the landmarks below the face (shoulders, arms, hands, hips, legs, feet).
BELOW_FACE = np.ones(BLAZEPOSE33.num_joints, dtype=bool)
BELOW_FACE[FACE_LANDMARKS] = False


def landmark_anchors(landmarks: np.ndarray) -> np.ndarray:
    """(2, 2) hip centre and face centre of (33+, 2) BlazePose landmarks, pixels."""
    return np.stack([landmarks[_HIPS].mean(axis=0), landmarks[_FACE].mean(axis=0)])


def detection_anchors(hip_keypoint: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(2, 2) hip centre and head centre of one detection: its mid-hip keypoint and its box's centre."""
    box = np.asarray(box, dtype=np.float64)
    return np.stack([np.asarray(hip_keypoint, dtype=np.float64), 0.5 * (box[:2] + box[2:])])


def body_radius(roi: SquareRoi) -> float:
    """A person's body radius (hips to the top of the head, roughly), pixels, from their region."""
    return float(roi.size) / ROI_SIDE_PER_RADIUS


def covers(tracked: np.ndarray, radius: float, candidate: np.ndarray, radii: float = SAME_PERSON_RADII) -> bool:
    """Whether ``candidate`` anchors (2, 2) are the person with ``tracked`` anchors and ``radius``.

    Both the hips and the head must be near: two people side by side have near heads or near hips
    only while one is bending over the other, and then the other is still apart.
    """
    distances = np.linalg.norm(np.asarray(candidate) - np.asarray(tracked), axis=1)
    return bool(np.all(distances < radii * max(radius, 1.0)))


def confirms_detection(detected: np.ndarray, landmarks: np.ndarray, radius: float) -> bool:
    """Whether a new track's first (33, 2) landmarks are the person its detection's (2, 2) anchors found."""
    gaps = np.linalg.norm(landmark_anchors(landmarks) - np.asarray(detected), axis=1) / max(radius, 1.0)
    return bool(np.isfinite(gaps).all() and gaps[0] <= NEWCOMER_HIP_RADII and gaps[1] <= NEWCOMER_FACE_RADII)


def same_landmarks(a: np.ndarray, b: np.ndarray, radius: float) -> bool:
    """Whether two (33, 2) landmark sets describe one person (median distance under the gate)."""
    distance = np.linalg.norm(np.asarray(a) - np.asarray(b), axis=1)
    distance = distance[np.isfinite(distance)]
    return bool(len(distance) and np.median(distance) < DUPLICATE_RADII * max(radius, 1.0))


def steadiness(previous: np.ndarray | None, current: np.ndarray, radius: float) -> float:
    """How far a track's landmarks moved since its last frame, in body radii (inf: no history).

    Between two tracks that converged on one person, the one that moved more is the one whose
    region drifted off its own person.
    """
    if previous is None:
        return float("inf")
    distance = np.linalg.norm(np.asarray(current) - np.asarray(previous), axis=1)
    distance = distance[np.isfinite(distance)]
    return float(np.median(distance)) / max(radius, 1.0) if len(distance) else float("inf")


def zoom_region(rois: list[SquareRoi], width: int, height: int) -> SquareRoi | None:
    """An upright square around the tracked people for a second, closer detector pass.

    Centred on the mean of the regions' centres, ``ZOOM_MARGIN`` times the largest region; ``None``
    when nobody is tracked or the square would not be markedly closer than the whole frame.
    """
    if not rois:
        return None
    side = ZOOM_MARGIN * max(float(roi.size) for roi in rois)
    if not np.isfinite(side) or side > ZOOM_MAX_FRACTION * max(width, height):
        return None
    centre = np.mean([roi.center for roi in rois], axis=0)
    return SquareRoi(center=centre.astype(np.float64), size=side, rotation=0.0)


def detection_tiles(width: int, height: int, fraction: float = TILE_FRACTION) -> list[SquareRoi]:
    """Upright overlapping squares covering the frame, for finding people too small for one pass.

    Returns:
        The tiles row by row; empty for a frame too small to be worth tiling.
    """
    side = fraction * min(width, height)
    if side < 64:
        return []
    step = side * (1.0 - TILE_OVERLAP)

    def centres(extent: int) -> np.ndarray:
        count = max(1, int(np.ceil(max(extent - side, 0.0) / step)) + 1)
        return np.linspace(side / 2.0, extent - side / 2.0, count) if count > 1 else np.array([extent / 2.0])

    return [SquareRoi(center=np.array([x, y], dtype=np.float64), size=float(side))
            for y in centres(height) for x in centres(width)]
