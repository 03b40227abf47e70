"""Raw inference benchmark: each network stage on each provider, for several numbers of people.

A backend's networks are stages (:class:`BenchStage`): a whole-frame network runs once per frame
whatever the number of people; a per-person network runs once for everybody when its first input
dimension is dynamic (one batch of P), else once per person (P calls). Inputs are random values of
the right shapes: only the runtime is measured, not pre/post-processing. Each (provider, people,
stage) is run ``warmup`` times untimed, then ``iterations`` times; the result has mean, median and
99th percentile milliseconds, and frames (and people) per second if the stages ran back to back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .engine import Engine

#: Untimed runs before timing (first-run allocations, TensorRT/CUDA lazy initialisation).
WARMUP_RUNS = 3
#: Input values are drawn from this range (every shipped network takes normalised inputs).
INPUT_RANGE = (-1.0, 1.0)


@dataclass(frozen=True, slots=True)
class BenchStage:
    """One network of a backend: its name in the results, its ONNX file, whether it runs per person."""

    name: str
    path: Path
    per_person: bool


@dataclass(frozen=True, slots=True)
class StageTiming:
    """Milliseconds of one stage for one frame of P people (``calls`` engine runs per frame)."""

    mean_ms: float
    p50_ms: float
    p99_ms: float
    calls: int


def random_inputs(engine: Engine, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Inputs of the engine's shapes, a dynamic first dimension set to ``batch``."""
    inputs = {}
    for spec in engine.input_specs:
        shape = tuple(batch if (i == 0 and dim < 0) else max(dim, 1) for i, dim in enumerate(spec.shape))
        inputs[spec.name] = rng.uniform(*INPUT_RANGE, size=shape).astype(np.dtype(spec.dtype))
    return inputs


def time_stage(engine: Engine, people: int, per_person: bool, iterations: int,
               warmup: int = WARMUP_RUNS, seed: int = 0) -> StageTiming:
    """Time one frame's worth of ``engine`` for ``people`` people."""
    rng = np.random.default_rng(seed)
    batched = bool(engine.input_specs) and engine.input_specs[0].shape[0] < 0
    if not per_person:
        calls, inputs = 1, random_inputs(engine, 1, rng)
    elif batched:
        calls, inputs = 1, random_inputs(engine, people, rng)
    else:
        calls, inputs = people, random_inputs(engine, 1, rng)
    for _ in range(warmup):
        engine.run(inputs)
    times = np.empty(iterations)
    for i in range(iterations):
        start = time.perf_counter()
        for _ in range(calls):
            engine.run(inputs)
        times[i] = 1000.0 * (time.perf_counter() - start)
    return StageTiming(mean_ms=float(times.mean()), p50_ms=float(np.percentile(times, 50)),
                       p99_ms=float(np.percentile(times, 99)), calls=calls)


def bench(stages: Sequence[BenchStage], providers: Sequence[str], people: Sequence[int], iterations: int,
          load: Callable[[Path, str], Engine]) -> list[dict]:
    """One result row per (provider, people): per-stage timings, frame time and throughput.

    Args:
        stages: the backend's networks.
        providers: provider choices to load each network with (``load(path, provider)``).
        people: numbers of people per frame.
        iterations: timed runs per (provider, people, stage).
        load: builds an engine (e.g. :func:`engines.engine.load_engine`); the engine's own
            ``provider`` and ``precision`` are reported, so a fallback shows in the results.
    """
    rows = []
    for provider in providers:
        engines = {stage.name: load(stage.path, provider) for stage in stages}
        for count in people:
            timings = {stage.name: time_stage(engines[stage.name], count, stage.per_person, iterations)
                       for stage in stages}
            frame_ms = sum(t.mean_ms for t in timings.values())
            first = engines[stages[0].name]
            rows.append({"provider": provider, "runtime": first.provider, "precision": first.precision,
                         "people": int(count), "stages": {name: asdict(t) for name, t in timings.items()},
                         "frame_ms": frame_ms, "fps": 1000.0 / frame_ms if frame_ms > 0 else float("inf"),
                         "people_per_s": 1000.0 * count / frame_ms if frame_ms > 0 else float("inf")})
    return rows


def format_table(rows: Sequence[dict], stage_names: Sequence[str]) -> str:
    """The rows side by side: one line per (provider, people), mean / p50 / p99 ms per stage."""
    stage_head = "".join(f" {name + ' mean/p50/p99 ms':>32}" for name in stage_names)
    lines = [f"{'provider':<9} {'runtime':<24} {'prec':<5} {'people':>6}{stage_head} {'frame ms':>9} {'fps':>7} "
             f"{'people/s':>9}"]
    for row in rows:
        cells = "".join(f" {'{mean_ms:.2f} / {p50_ms:.2f} / {p99_ms:.2f}'.format(**row['stages'][n]):>32}"
                        for n in stage_names)
        lines.append(f"{row['provider']:<9} {row['runtime']:<24} {row['precision']:<5} {row['people']:>6}{cells} "
                     f"{row['frame_ms']:>9.2f} {row['fps']:>7.1f} {row['people_per_s']:>9.1f}")
    return "\n".join(lines)
