"""``mocap bench --engine xnect``: Stage I, decoding and Stage II milliseconds at 512x320.

Stage I runs the model store's engine, or, when none is there yet, a randomly initialised SelecSLS-60
Stage I exported on the fly (needs torch; the output says so): its cost does not depend on the
weights. Decoding runs on exact target maps of 1 and 10 simulated people (random maps would have no
people or nonsense peaks), Stage II on the shipped network for 1 and 10 people. Medians over runs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from engines.engine import load_engine

from ..backends.xnect import stage_paths
from ..errors import MocapError
from ..skeletons import VNECT21
from ..xnect.decode import group_people
from ..xnect.features import stage2_features

BENCH_INPUT = (512, 320)
PEOPLE = (1, 10)


def _median_ms(function, runs: int) -> float:
    function()                                    # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(1000.0 * (time.perf_counter() - start))
    return float(np.median(times))


def _stage1_engine(folder: Path, threads: int | None) -> tuple[object, str]:
    path = stage_paths()["stage1"]
    if path.is_file():
        return load_engine(path, threads=threads), "trained weights"
    try:
        from models.xnect import StageI
        from models.xnect_export import export_stage1
    except ModuleNotFoundError as exc:
        raise MocapError("No Stage I weights and no torch to build a random one for timing: "
                         "pip install 'mocap-app[train]'.") from exc
    path = export_stage1(StageI("xnect").eval(), folder / "stage1.onnx", BENCH_INPUT)
    return load_engine(path, threads=threads), "RANDOM-INIT weights (timing only)"


def _people_maps(count: int, seed: int = 0) -> dict[str, np.ndarray]:
    from models.xnect_sim import SimConfig, simulate
    from models.xnect_targets import render_targets

    rng = np.random.default_rng(seed)
    pose = np.zeros((1, VNECT21.num_joints, 3))
    pose[0, :, 1] = -np.linspace(0.9, -0.9, VNECT21.num_joints)          # any body-sized shape will do
    config = SimConfig(occluder_rate=0.0, drop_rate=0.0, distance_m=(4.0, 6.0))
    batch = simulate(pose, count, rng, config)
    targets = render_targets(batch.joints2d, batch.visible, (BENCH_INPUT[0] // 8, BENCH_INPUT[1] // 8), 8,
                             batch.target[:, :17] + [0.0, 0.0, 5.0])
    return {"heatmaps": targets.heatmaps, "pafs": targets.pafs, "encodings": targets.encodings}


def run_xnect_bench(args: argparse.Namespace) -> int:
    runs = max(5, min(args.frames, 50))
    with tempfile.TemporaryDirectory() as folder:
        stage1, weights = _stage1_engine(Path(folder), args.threads)
        width, height = BENCH_INPUT
        image = np.random.default_rng(0).normal(size=(1, 3, height, width)).astype(np.float32)
        stage1_ms = _median_ms(lambda: stage1.run({"image": image}), runs)
    stage2 = load_engine(stage_paths()["stage2"], threads=args.threads)
    print(f"mocap bench: xnect at {width}x{height}, {runs} runs each; Stage I with {weights}, "
          f"provider {stage1.provider}")
    print(f"{'people':>6} {'stage1':>8} {'decode':>8} {'stage2':>8} {'total':>8} {'fps':>6}")
    for count in PEOPLE:
        maps = _people_maps(count)
        found = group_people(maps["heatmaps"], maps["pafs"], maps["encodings"])
        decode_ms = _median_ms(lambda m=maps: group_people(m["heatmaps"], m["pafs"], m["encodings"]), runs)
        features = stage2_features(found.joints * 8.0, found.scores, found.encodings, found.visible)
        features = np.resize(features, (count, features.shape[1]))            # exactly `count` rows
        stage2_ms = _median_ms(lambda f=features: stage2.run({"features": f}), runs)
        total = stage1_ms + decode_ms + stage2_ms
        print(f"{count:>6d} {stage1_ms:>8.2f} {decode_ms:>8.2f} {stage2_ms:>8.2f} {total:>8.2f} {1000 / total:>6.1f}"
              f"   (decoded {len(found.joints)} of {count} people)")
    print("milliseconds (medians); thesis: Stage I 7.4 ms on a TitanX (Pascal), Stage II 1.1 ms for 10 people")
    return 0
