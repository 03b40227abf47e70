"""Compare our blazepose backend with MediaPipe's own pipeline on the same frames.

MediaPipe pins numpy<2 and must never be a dependency of the project, so it runs in a separate
virtualenv as a worker process started by this script::

    python3 -m venv ~/.venvs/mediapipe
    ~/.venvs/mediapipe/bin/pip install mediapipe==0.10.21 'numpy<2' opencv-python-headless
    .venv/bin/python scripts/reference_mediapipe.py --video ../shared/data/video/vtest.avi \\
        --mediapipe-python ~/.venvs/mediapipe/bin/python

Both sides see the same 640x480 frames (``--crop X,Y,W,H`` of the video, resized). MediaPipe runs
its legacy ``Pose`` solution (full model, landmark smoothing off, tracking on); we run our backend
with ``max_people=1`` (MediaPipe tracks one person). For every frame where both found someone, the
pixel distance of each of the 33 landmarks is collected; the script prints the median and 90th
percentile, over all landmarks and over the landmarks MediaPipe calls visible (> 0.5).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

SIZE = (640, 480)
DEFAULT_CROP = "120,140,320,240"
BODY_LANDMARKS = 33


def load_frames(video: Path, crop: str, count: int) -> np.ndarray:
    """(F, 480, 640, 3) uint8 BGR frames of the crop, resized."""
    x, y, w, h = (int(v) for v in crop.split(","))
    capture = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(image[y:y + h, x:x + w], SIZE, interpolation=cv2.INTER_LINEAR))
    capture.release()
    if not frames:
        sys.exit(f"reference_mediapipe: no frames read from {video}")
    return np.stack(frames)


def mediapipe_worker(frames_path: Path, out_path: Path) -> None:
    """Runs inside the mediapipe virtualenv: landmarks (F, 33, 2) pixels (NaN: nobody) + visibility."""
    import mediapipe as mp

    frames = np.load(frames_path)
    height, width = frames.shape[1:3]
    xy = np.full((len(frames), BODY_LANDMARKS, 2), np.nan)
    visibility = np.zeros((len(frames), BODY_LANDMARKS))
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=False,
                                enable_segmentation=False, min_detection_confidence=0.5,
                                min_tracking_confidence=0.5) as pose:
        for index, frame in enumerate(frames):
            result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            if result.pose_landmarks is None:
                continue
            for joint, landmark in enumerate(result.pose_landmarks.landmark):
                xy[index, joint] = (landmark.x * width, landmark.y * height)
                visibility[index, joint] = landmark.visibility
    np.savez(out_path, xy=xy, visibility=visibility)


def ours(frames: np.ndarray) -> list[list[np.ndarray]]:
    """Our backend on the frames: per frame, the (33, 2) landmarks of each person."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mocap_app.backends.blazepose import BlazePoseBackend, BlazePoseConfig
    from mocap_app.types import Frame

    backend = BlazePoseBackend.from_store(BlazePoseConfig(max_people=1))
    return [[person.joints2d for person in backend(Frame(image, index, index / 10.0)).people]
            for index, image in enumerate(frames)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="the video (e.g. ../shared/data/video/vtest.avi)")
    parser.add_argument("--mediapipe-python", type=Path, help="python of a venv with mediapipe==0.10.21")
    parser.add_argument("--crop", default=DEFAULT_CROP, help=f"X,Y,W,H region of the video (default {DEFAULT_CROP})")
    parser.add_argument("--frames", type=int, default=60, help="frames to compare (default 60)")
    parser.add_argument("--per-frame", action="store_true", help="also print each frame's median and max")
    parser.add_argument("--worker", nargs=2, type=Path, metavar=("FRAMES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        mediapipe_worker(*args.worker)
        return 0
    if args.video is None or args.mediapipe_python is None:
        parser.error("--video and --mediapipe-python are required")
    frames = load_frames(args.video, args.crop, args.frames)
    with tempfile.TemporaryDirectory() as temp:
        frames_path, out_path = Path(temp) / "frames.npy", Path(temp) / "mediapipe.npz"
        np.save(frames_path, frames)
        subprocess.run([str(args.mediapipe_python), __file__, "--worker", str(frames_path), str(out_path)], check=True)
        reference = np.load(out_path)
        reference_xy, visibility = reference["xy"], reference["visibility"]
    our_people = ours(frames)

    distances, visible_distances, compared = [], [], 0
    for index, people in enumerate(our_people):
        if not people or np.isnan(reference_xy[index]).any():
            continue
        # The person both track: ours closest to MediaPipe's.
        errors = min((np.linalg.norm(person - reference_xy[index], axis=1) for person in people),
                     key=lambda e: float(np.median(e)))
        distances.append(errors)
        if args.per_frame:
            print(f"frame {index}: median {np.median(errors):.2f} px, max {errors.max():.2f} px")
        visible_distances.append(errors[visibility[index] > 0.5])
        compared += 1
    found_mp = int((~np.isnan(reference_xy[:, 0, 0])).sum())
    found_ours = sum(bool(people) for people in our_people)
    print(f"frames: {len(frames)} (640x480 crop {args.crop}); MediaPipe found a person in {found_mp}, "
          f"we in {found_ours}, compared {compared}")
    if not compared:
        return 1
    every, visible = np.concatenate(distances), np.concatenate(visible_distances)
    for label, values in (("all 33 landmarks", every), ("visible landmarks", visible)):
        median, p90 = np.median(values), np.percentile(values, 90)
        print(f"{label + ':':<19} median {median:.2f} px, 90th percentile {p90:.2f} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
