"""How far better person masks could take the default backend on two overlapping performers.

The default backend hides each tracked person from the detector and from the other people's crops
with a mask made from the landmark network's segmentation (``mocap_app/backends/blazepose_masks.py``).
Where two dancers overlap, that mask also covers parts of the one behind. This script replaces it
with the renderer's exact silhouette of the performer a track is on (the truth performer nearest to
the track's landmarks, grown by 2 pixels, taken in the frame being read, so without the one-frame lag
of the real masks) and runs the usual evaluation. The difference from ``mocap eval video`` is what
perfect masks would add; what is still missed then is not the masks' fault.

Usage (``render`` takes ``mocap synth``'s arguments and also writes ``ids.npz``, the per-frame
performer id image, which ``mocap synth`` does not keep; ``eval`` prints one line)::

    python scripts/oracle_masks.py render --bvh A.bvh B.bvh --bvh-fps 60 --out DIR --start 5 --duration 8 --distance 2.6
    python scripts/oracle_masks.py eval DIR

Both patch the product's functions at run time (the renderer's truth writer, the track mask): this
is a measurement, not a mode of the product.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2
import numpy as np

GROW_PX = 2


def render(arguments: list[str]) -> int:
    """``mocap synth`` with the per-frame id images kept in ``OUT/ids.npz``."""
    from mocap_app.cli import main
    from mocap_app.synth import clip

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--out", required=True)
    out = Path(parser.parse_known_args(arguments)[0].out)
    ids: list[np.ndarray] = []
    frame_record = clip.frame_record

    def keeping_ids(frame, time_s, camera, truths, result):
        ids.append(result.ids.astype(np.uint8))
        return frame_record(frame, time_s, camera, truths, result)

    clip.frame_record = keeping_ids
    code = main(["synth", *arguments])
    if code == 0:
        np.savez_compressed(out / "ids.npz", ids=np.stack(ids))
        print(f"kept {len(ids)} id images in {out / 'ids.npz'}")
    return code


def evaluate(folder: Path) -> int:
    """The default evaluation with every track's mask replaced by its performer's true silhouette."""
    from mocap_app.backends import blazepose
    from mocap_app.backends.blazepose_masks import PersonMask
    from mocap_app.evaluation.video_eval import evaluate_video
    from mocap_app.skeletons import BLAZEPOSE33

    # Shoulders to ankles: which performer a track is on.
    body = slice(BLAZEPOSE33.index("left_shoulder"), BLAZEPOSE33.index("right_ankle") + 1)

    if not (folder / "ids.npz").is_file():
        print(f"{folder} has no ids.npz: render it with `python scripts/oracle_masks.py render ...`")
        return 2
    ids = np.load(folder / "ids.npz")["ids"]
    truth = [np.array([p["blazepose33"]["pixels"] for p in json.loads(line)["performers"]])
             for line in (folder / "truth.jsonl").read_text().splitlines()]
    current = {"frame": 0}
    call = blazepose.BlazePoseBackend.__call__

    def counting(self, frame):
        current["frame"] = frame.index
        return call(self, frame)

    def true_mask(self, image_shape):
        if self.segmentation is None:
            return None
        landmarks = self.segmentation[2]
        frame = current["frame"]
        gaps = np.nanmean(np.linalg.norm(truth[frame][:, body] - landmarks[None, body], axis=-1), axis=1)
        silhouette = (ids[frame] == int(np.argmin(gaps)) + 1).astype(np.uint8)
        silhouette = cv2.dilate(silhouette, np.ones((2 * GROW_PX + 1, 2 * GROW_PX + 1), np.uint8))
        return PersonMask(silhouette.astype(bool), 0, 0) if silhouette.any() else None

    blazepose.BlazePoseBackend.__call__ = counting
    blazepose._Track.mask = true_mask
    report = evaluate_video(folder, "blazepose", show_progress=False)
    print(f"{folder.name}: true masks: detection {100 * report.detection_rate:.1f} %, 2D median "
          f"{report.px_median:.2f} px, Stage III MPJPE {report.mpjpe_mm:.1f} mm, ID switches {report.id_switches} "
          f"({report.extra['id_switches_per_frame_matching']} matched afresh)")
    return 0


def main(argv: list[str]) -> int:
    logging.disable(logging.WARNING)
    if len(argv) >= 1 and argv[0] == "render":
        return render(argv[1:])
    if len(argv) == 2 and argv[0] == "eval":
        return evaluate(Path(argv[1]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
