"""Train XNect Stage II on simulated Stage I outputs (:mod:`models.xnect_sim`) and evaluate it.

Loss: smooth-L1 on root-relative joint positions (thesis Ch. 6.3.2; ``beta`` = 5 cm), masked where
the motion file lacks a joint. AdamW with a cosine learning-rate decay, fresh simulated batches every
step (so no epochs, and no overfitting to a fixed set), fixed seeds. The evaluation runs the same
simulation over held-out motion with its own fixed seed and reports MPJPE (mm) over all joints,
over the joints Stage I detected and over those it did not.

The 2D-only lifter (modes without encodings) differs in three ways. Its input is the compact
``(u, v, c)`` row; half of its simulated people are seen the way a COCO-17 detector sees them and half
of the motion is mirrored (:func:`simulation_for`), since it must serve every 2D front end; and its
targets are scale-normalised (every pose scaled to the mean bone length of the training motion,
written to the sidecar as ``nominal_bone_m``), since 2D cannot tell a tall person far away from a
short one near by, and Stage III sets the performer's bone lengths anyway. It is evaluated twice: on
COCO-17 input (head top and spine never detected) and on Stage I (``mpi3dhp17``) input.
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
from mocap_app.skeletons.xnect import STAGE1_SET, bone_vectors
from mocap_app.xnect.features import INPUT_MODES, feature_size

from .xnect import StageII
from .xnect_export import export_stage2
from .xnect_sim import SimConfig, load_poses, simulate

logger = logging.getLogger(__name__)

SMOOTH_L1_BETA_M = 0.05
_J1 = STAGE1_SET.num_joints
#: Share of simulated people seen through the COCO-17 mapping / mirrored, for the 2D-only lifter.
LIFTER_COCO_RATE = 0.5
LIFTER_MIRROR_RATE = 0.5
#: Evaluation inputs of the 2D-only lifter: joint set seen -> share of COCO-17 people.
LIFTER_EVAL_INPUTS = {"coco17": 1.0, STAGE1_SET.name: 0.0}


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
    """MPJPE in millimetres on a simulated evaluation set.

    ``scaled_mpjpe_mm`` is after the one scale per person that fits the prediction best to the truth
    (what is left once Stage III has set the bone lengths); ``input_set`` is the joint set the
    simulated detector reported (``mpi3dhp17``: Stage I; ``coco17``: through the mapping).
    """

    mode: str
    samples: int
    mpjpe_mm: float
    visible_mpjpe_mm: float
    occluded_mpjpe_mm: float
    scaled_mpjpe_mm: float = float("nan")
    input_set: str = STAGE1_SET.name


def uses_encodings(mode: str) -> bool:
    """Whether ``mode`` feeds Stage I's 3D encodings (the XNect Stage II) or 2D only (the lifter)."""
    return INPUT_MODES[mode][2]


def simulation_for(mode: str, coco_rate: float = LIFTER_COCO_RATE) -> SimConfig:
    """The training simulation of ``mode``: the defaults for Stage II, COCO-17 + mirrored people for the lifter."""
    return SimConfig() if uses_encodings(mode) else SimConfig(coco_rate=coco_rate, mirror_rate=LIFTER_MIRROR_RATE)


def pose_scale(poses: np.ndarray) -> np.ndarray:
    """(..., 21, 3) root-relative poses -> (...,) mean Stage I bone length, metres."""
    lengths = np.linalg.norm(bone_vectors(poses[..., :_J1, :], STAGE1_SET), axis=-1)
    return lengths.sum(axis=-1) / (_J1 - 1)          # the root's zero "bone" is left out


def _masked_smooth_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    valid = torch.isfinite(target)
    loss = nn.functional.smooth_l1_loss(pred[valid], target[valid], beta=SMOOTH_L1_BETA_M, reduction="sum")
    return loss / valid.sum().clamp(min=1)


def train_stage2(train_poses: np.ndarray, config: Stage2TrainConfig, sim: SimConfig | None = None,
                 label: str = "stage2", nominal_scale: float | None = None) -> StageII:
    """Train a Stage II network from scratch; progress and ETA on stderr.

    With ``nominal_scale`` (metres, mean bone length) every target pose is scaled to it.
    """
    if config.mode not in INPUT_MODES:
        raise ValueError(f"Unknown input mode {config.mode!r}; valid: {', '.join(INPUT_MODES)}.")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    net = StageII(input_size=feature_size(config.mode))
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step / config.steps, 1.0))))
    net.train()
    running = None
    with Progress(total=config.steps, label=label, unit="step") as bar:
        for step in range(config.steps):
            batch = simulate(train_poses, config.batch, rng, sim)
            features = torch.from_numpy(batch.features(config.mode))
            target = batch.target
            if nominal_scale is not None:
                target = target * (nominal_scale / pose_scale(target))[:, None, None].astype(np.float32)
            target = torch.from_numpy(target.reshape(config.batch, -1))
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


def _fit_scale(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(P, J, 3) prediction scaled per person to best fit (least squares) the finite target joints."""
    valid = np.isfinite(target).all(-1, keepdims=True)
    p, t = np.where(valid, pred, 0.0), np.nan_to_num(target)
    scale = (p * t).sum(axis=(1, 2)) / np.maximum((p * p).sum(axis=(1, 2)), 1e-9)
    return pred * scale[:, None, None]


def evaluate_stage2(predict, eval_poses: np.ndarray, mode: str, samples: int = 20000, seed: int = 1234,
                    sim: SimConfig | None = None, input_set: str = STAGE1_SET.name) -> Stage2Metrics:
    """MPJPE of ``predict`` ((P, F) float32 -> (P, 63)) on ``samples`` simulated people."""
    rng = np.random.default_rng(seed)
    errors, scaled_errors, visible_flags = [], [], []
    for start in range(0, samples, 1000):
        batch = simulate(eval_poses, min(1000, samples - start), rng, sim)
        pred = np.asarray(predict(batch.features(mode))).reshape(batch.target.shape)
        errors.append(np.linalg.norm(pred - batch.target, axis=-1))
        scaled_errors.append(np.linalg.norm(_fit_scale(pred, batch.target) - batch.target, axis=-1))
        detected = np.zeros(batch.target.shape[:2], bool)
        detected[:, :_J1] = batch.visible
        visible_flags.append(detected)
    error, detected, scaled = np.concatenate(errors), np.concatenate(visible_flags), np.concatenate(scaled_errors)
    valid = np.isfinite(error)
    stage1 = np.zeros_like(valid)
    stage1[:, :_J1] = True
    return Stage2Metrics(mode=mode, samples=samples, mpjpe_mm=1000.0 * float(error[valid].mean()),
                         visible_mpjpe_mm=1000.0 * float(error[valid & detected].mean()),
                         occluded_mpjpe_mm=1000.0 * float(error[valid & stage1 & ~detected].mean()),
                         scaled_mpjpe_mm=1000.0 * float(scaled[valid].mean()), input_set=input_set)


def torch_predict(net: StageII):
    """A numpy predict function around a torch Stage II (eval mode, no gradients)."""
    def predict(features: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(features)).numpy()
    return predict


def ablation_modes(mode: str) -> list[str]:
    """``mode`` and the input modes that keep a subset of its feature groups (its ablation)."""
    return [m for m in INPUT_MODES if all(a <= b for a, b in zip(INPUT_MODES[m], INPUT_MODES[mode], strict=True))]


def _train_and_evaluate(train_poses: np.ndarray, eval_poses: np.ndarray,
                        config: Stage2TrainConfig) -> tuple[StageII, list[Stage2Metrics], float | None]:
    """One network of ``config.mode``; the lifter is evaluated once per input joint set."""
    nominal = None if uses_encodings(config.mode) else float(pose_scale(train_poses).mean())
    net = train_stage2(train_poses, config, simulation_for(config.mode), label=f"stage2 {config.mode}",
                       nominal_scale=nominal)
    if uses_encodings(config.mode):
        results = [evaluate_stage2(torch_predict(net), eval_poses, config.mode)]
    else:
        results = [evaluate_stage2(torch_predict(net), eval_poses, config.mode, input_set=joint_set,
                                   sim=SimConfig(coco_rate=rate)) for joint_set, rate in LIFTER_EVAL_INPUTS.items()]
    for result in results:
        logger.info("%s", result)
    return net, results, nominal


def _rounded(metrics: Stage2Metrics) -> dict:
    return {key: round(value, 2) if isinstance(value, float) else value for key, value in asdict(metrics).items()
            if key != "samples"}


def run_stage2_training(train_dir: Path, eval_dir: Path, out: Path, config: Stage2TrainConfig,
                        ablation: bool = False, command: str = "") -> list[Stage2Metrics]:
    """Train (the shipped input mode, and with ``ablation`` the reduced ones), export, evaluate.

    Writes ``out`` (.onnx + .toml with metrics and the reproduce command) for ``config.mode``.
    """
    started = time.perf_counter()
    train_poses, eval_poses = load_poses(train_dir), load_poses(eval_dir)
    modes = ablation_modes(config.mode) if ablation else [config.mode]
    metrics: list[Stage2Metrics] = []
    shipped = None
    for mode in modes:
        net, results, nominal = _train_and_evaluate(train_poses, eval_poses,
                                                    Stage2TrainConfig(**{**asdict(config), "mode": mode}))
        metrics += results
        if mode == config.mode:
            shipped = (net, results[0], nominal)
    assert shipped is not None
    net, result, nominal = shipped
    sim = simulation_for(config.mode)
    changed = {key: value for key, value in asdict(sim).items() if value != getattr(SimConfig(), key)}
    metadata = {
        **asdict(config), "train_poses": int(len(train_poses)), "eval_poses": int(len(eval_poses)),
        "train_data": str(train_dir), "eval_data": str(eval_dir),
        "simulation": "models/xnect_sim.py defaults" + "".join(f", {k} = {v}" for k, v in changed.items()),
        "loss": f"smooth-L1 beta {SMOOTH_L1_BETA_M} m", "eval_samples": result.samples, "eval_seed": 1234,
        "eval_input_set": result.input_set,
        "eval_mpjpe_mm": round(result.mpjpe_mm, 2), "eval_visible_mpjpe_mm": round(result.visible_mpjpe_mm, 2),
        "eval_occluded_mpjpe_mm": round(result.occluded_mpjpe_mm, 2),
        "eval_scaled_mpjpe_mm": round(result.scaled_mpjpe_mm, 2),
        "ablation": [_rounded(m) for m in metrics] if len(metrics) > 1 else [],
        "reproduce": command, "wall_s": round(time.perf_counter() - started, 1), "torch": torch.__version__,
    }
    if not metadata["ablation"]:
        del metadata["ablation"]
    export_stage2(net, out, metadata, mode=config.mode, nominal_scale=nominal)
    return metrics
