"""Train XNect Stage II on simulated Stage I outputs (:mod:`models.xnect_sim`) and evaluate it.

Loss: smooth-L1 on root-relative joint positions (thesis Ch. 6.3.2; ``beta`` = 5 cm), masked where
the motion file lacks a joint. AdamW with a cosine learning-rate decay, fresh simulated batches every
step (so no epochs, and no overfitting to a fixed set), fixed seeds. The evaluation runs the same
simulation over held-out motion with its own fixed seed and reports MPJPE (mm) over all joints,
over the joints Stage I detected and over those it did not.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mocap_app.progress import Progress
from mocap_app.xnect.features import INPUT_MODES

from .xnect import StageII
from .xnect_export import export_stage2
from .xnect_sim import SimConfig, load_poses, simulate

logger = logging.getLogger(__name__)

SMOOTH_L1_BETA_M = 0.05
_J1 = 17


@dataclass(frozen=True)
class Stage2TrainConfig:
    """Training settings (all written into the sidecar's ``[training]`` table)."""

    steps: int = 1500
    batch: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    mode: str = "2d+conf+enc"
    threads: int = 1


@dataclass(frozen=True)
class Stage2Metrics:
    """MPJPE in millimetres on a simulated evaluation set."""

    mode: str
    samples: int
    mpjpe_mm: float
    visible_mpjpe_mm: float
    occluded_mpjpe_mm: float


def _masked_smooth_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    valid = torch.isfinite(target)
    loss = nn.functional.smooth_l1_loss(pred[valid], target[valid], beta=SMOOTH_L1_BETA_M, reduction="sum")
    return loss / valid.sum().clamp(min=1)


def train_stage2(train_poses: np.ndarray, config: Stage2TrainConfig, sim: SimConfig | None = None,
                 label: str = "stage2") -> StageII:
    """Train a Stage II network from scratch; progress and ETA on stderr."""
    if config.mode not in INPUT_MODES:
        raise ValueError(f"Unknown input mode {config.mode!r}; valid: {', '.join(INPUT_MODES)}.")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    net = StageII()
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step / config.steps, 1.0))))
    net.train()
    running = None
    with Progress(total=config.steps, label=label, unit="step") as bar:
        for step in range(config.steps):
            batch = simulate(train_poses, config.batch, rng, sim)
            features = torch.from_numpy(batch.features(config.mode))
            target = torch.from_numpy(batch.target.reshape(config.batch, -1))
            loss = _masked_smooth_l1(net(features), target)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            if step % 500 == 0 or step == config.steps - 1:
                logger.info("%s step %d loss %.5f", label, step, running)
            bar.update()
    return net.eval()


def evaluate_stage2(predict, eval_poses: np.ndarray, mode: str, samples: int = 20000, seed: int = 1234,
                    sim: SimConfig | None = None) -> Stage2Metrics:
    """MPJPE of ``predict`` ((P, 918) float32 -> (P, 63)) on ``samples`` simulated people."""
    rng = np.random.default_rng(seed)
    errors, visible_flags = [], []
    for start in range(0, samples, 1000):
        batch = simulate(eval_poses, min(1000, samples - start), rng, sim)
        pred = np.asarray(predict(batch.features(mode))).reshape(batch.target.shape)
        errors.append(np.linalg.norm(pred - batch.target, axis=-1))
        detected = np.zeros(batch.target.shape[:2], bool)
        detected[:, :_J1] = batch.visible
        visible_flags.append(detected)
    error, detected = np.concatenate(errors), np.concatenate(visible_flags)
    valid = np.isfinite(error)
    stage1 = np.zeros_like(valid)
    stage1[:, :_J1] = True
    return Stage2Metrics(mode=mode, samples=samples, mpjpe_mm=1000.0 * float(error[valid].mean()),
                         visible_mpjpe_mm=1000.0 * float(error[valid & detected].mean()),
                         occluded_mpjpe_mm=1000.0 * float(error[valid & stage1 & ~detected].mean()))


def torch_predict(net: StageII):
    """A numpy predict function around a torch Stage II (eval mode, no gradients)."""
    def predict(features: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(features)).numpy()
    return predict


def run_stage2_training(train_dir: Path, eval_dir: Path, out: Path, config: Stage2TrainConfig,
                        ablation: bool = False, command: str = "") -> list[Stage2Metrics]:
    """Train (the shipped input mode, and with ``ablation`` the two reduced ones), export, evaluate.

    Writes ``out`` (.onnx + .toml with metrics and the reproduce command) for ``config.mode``.
    """
    started = time.perf_counter()
    train_poses, eval_poses = load_poses(train_dir), load_poses(eval_dir)
    modes = list(INPUT_MODES) if ablation else [config.mode]
    metrics: list[Stage2Metrics] = []
    shipped = None
    for mode in modes:
        net = train_stage2(train_poses, Stage2TrainConfig(**{**asdict(config), "mode": mode}), label=f"stage2 {mode}")
        result = evaluate_stage2(torch_predict(net), eval_poses, mode)
        logger.info("%s", result)
        metrics.append(result)
        if mode == config.mode:
            shipped = (net, result)
    assert shipped is not None
    net, result = shipped
    metadata = {
        **asdict(config), "train_poses": int(len(train_poses)), "eval_poses": int(len(eval_poses)),
        "train_data": str(train_dir), "eval_data": str(eval_dir), "simulation": "models/xnect_sim.py defaults",
        "loss": f"smooth-L1 beta {SMOOTH_L1_BETA_M} m", "eval_samples": result.samples, "eval_seed": 1234,
        "eval_mpjpe_mm": round(result.mpjpe_mm, 2), "eval_visible_mpjpe_mm": round(result.visible_mpjpe_mm, 2),
        "eval_occluded_mpjpe_mm": round(result.occluded_mpjpe_mm, 2),
        "ablation": [{"mode": m.mode, "mpjpe_mm": round(m.mpjpe_mm, 2),
                      "visible_mpjpe_mm": round(m.visible_mpjpe_mm, 2),
                      "occluded_mpjpe_mm": round(m.occluded_mpjpe_mm, 2)} for m in metrics] if ablation else [],
        "reproduce": command, "wall_s": round(time.perf_counter() - started, 1), "torch": torch.__version__,
    }
    if not metadata["ablation"]:
        del metadata["ablation"]
    export_stage2(net, out, metadata)
    return metrics
