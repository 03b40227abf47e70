"""``mocap bench --engine multiposenet``: image network ms per frame, PRN ms per person (1, 5, 20 people).

The paper's runtime figure (ResNet-50, 384 x 576, GTX 1080Ti): 35 ms for keypoints + detections and
about 2 ms per person for PRN. Here: the image network from the model store when it is there; when
it is not, a randomly initialised ResNet-50 network is exported once to the cache (needs torch) -
timing does not depend on the weights, and the output says which one ran. PRN: the shipped network,
timed with its crop drawing and the greedy assignment, for synthetic scenes of P people (17 peaks
each, overlapping boxes), one engine call for all P crops.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np

from engines.engine import load_engine

from ..backends.multiposenet import model_paths, multiposenet_dir
from ..errors import MocapError
from ..skeletons import COCO17
from .prn_io import assign_prn

PEOPLE = (1, 5, 20)
BENCH_VARIANT = "r50"
INPUT_SIZE = (384, 576)


def _network_path() -> tuple[Path, str]:
    path = model_paths()["network"]
    if path.is_file():
        return path, "trained weights from the model store"
    cached = multiposenet_dir() / "bench_random" / "multiposenet.onnx"
    if not cached.is_file():
        if importlib.util.find_spec("torch") is None:
            raise MocapError("No MultiPoseNet network to time: train one, or install torch (pip install "
                             "'mocap-app[train]') so a random-init one can be exported for timing.")
        from models.multiposenet import MultiPoseNet
        from models.multiposenet_export import export_multiposenet

        export_multiposenet(MultiPoseNet(BENCH_VARIANT), cached.parent, INPUT_SIZE)
    return cached, f"RANDOM-INIT {BENCH_VARIANT} weights (timing only; cached in {cached.parent})"


def _scene(rng: np.random.Generator, people: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Peaks (17 x (P, 3)) and (P, 4) boxes of P side-by-side people overlapping by a third."""
    boxes = np.array([[40.0 * i, 50.0, 40.0 * i + 60.0, 200.0] for i in range(people)])
    peaks = []
    for _ in range(COCO17.num_joints):
        xy = boxes[:, :2] + rng.uniform(0, 1, (people, 2)) * (boxes[:, 2:] - boxes[:, :2])
        peaks.append(np.concatenate([xy, rng.uniform(0.5, 1.0, (people, 1))], axis=1))
    return peaks, boxes


def run_bench(repeats: int, threads: int | None) -> int:
    path, weights = _network_path()
    network = load_engine(path, threads=threads)
    _, channels, height, width = (int(v) for v in network.sidecar["input"]["shape"])
    image = np.random.default_rng(0).normal(0, 1, (1, channels, height, width)).astype(np.float32)
    network.run({"image": image})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        network.run({"image": image})
        times.append(1000.0 * (time.perf_counter() - start))
    prn = load_engine(model_paths()["prn"], threads=threads)
    grid = (int(prn.sidecar["crop"]["rows"]), int(prn.sidecar["crop"]["cols"]))

    def function(crops: np.ndarray) -> np.ndarray:
        return prn.run({"crops": crops})["probabilities"]

    print(f"mocap bench: multiposenet ({network.sidecar.get('variant')}, {height}x{width}) on {network.provider}; "
          f"{weights}")
    print(f"backbone + keypoint subnet + detector: {np.median(times):.1f} ms (median of {repeats}; "
          f"paper: 35 ms on a GTX 1080Ti)")
    print(f"{'people':>6} {'PRN total ms':>13} {'PRN ms/person':>14}   ({prn.sidecar.get('variant')}, crop drawing + "
          "network + assignment; paper: ~2 ms/person)")
    rng = np.random.default_rng(1)
    for people in PEOPLE:
        peaks, boxes = _scene(rng, people)
        assign_prn(peaks, boxes, function, grid)
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            assign_prn(peaks, boxes, function, grid)
            runs.append(1000.0 * (time.perf_counter() - start))
        total = float(np.median(runs))
        print(f"{people:>6d} {total:>13.2f} {total / people:>14.2f}")
    return 0
