"""Train XNect Stage I: the thesis' losses on COCO / MuCo-style data or on BlazePose distillation.

Losses (thesis Ch. 6.3.1 / 9.3): per-pixel L2 on heatmaps and on PAFs (channels the dataset does not
annotate are masked), and Gaussian-weighted L2 on the channel-sparse encodings (only the triplets
of the bones meeting at each joint, near that joint). The thesis trains with AdaDelta and gives no
schedule for XNect; we use AdamW with a cosine decay (documented choice). Mixed datasets are sampled
uniformly per image. Progress and ETA on stderr; checkpoint ``.pt`` beside the exported ``.onnx``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from mocap_app.errors import MocapError
from mocap_app.progress import Progress

from .xnect import IMAGE_MEAN, IMAGE_STD, OUTPUT_STRIDE, StageI
from .xnect_data import Sample, load_coco, load_muco, make_example
from .xnect_export import export_stage1

logger = logging.getLogger(__name__)

#: Weight of the encoding loss against the 2D losses (encodings are metres, maps are unit-range).
ENCODING_LOSS_WEIGHT = 10.0


@dataclass(frozen=True)
class Stage1TrainConfig:
    """Stage I training settings (written into the sidecar)."""

    variant: str = "xnect"
    size: tuple[int, int] = (384, 256)
    steps: int = 100000
    batch: int = 8
    lr: float = 1e-3
    seed: int = 0
    threads: int | None = None
    device: str = "cpu"
    augment: bool = True


def make_batch(samples: list[Sample], indices: np.ndarray, config: Stage1TrainConfig,
               rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """Images (N, 3, H, W) normalised and every target/mask as tensors."""
    images, targets = [], []
    for index in indices:
        rgb, target = make_example(samples[index], config.size, OUTPUT_STRIDE, rng, config.augment)
        images.append((rgb - np.array(IMAGE_MEAN, np.float32)) / np.array(IMAGE_STD, np.float32))
        targets.append(target)
    batch = {"image": torch.from_numpy(np.stack(images).transpose(0, 3, 1, 2).copy())}
    for key in ("heatmaps", "pafs", "encodings", "heatmap_mask", "paf_mask", "encoding_weight"):
        batch[key] = torch.from_numpy(np.stack([getattr(t, key) for t in targets]).astype(np.float32))
    return batch


def stage1_losses(outputs: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Heatmap L2, PAF L2 (masked channels) and Gaussian-weighted encoding L2, each a mean per pixel."""
    hm_mask = batch["heatmap_mask"][:, :, None, None]
    paf_mask = batch["paf_mask"][:, :, None, None]
    heatmap = ((outputs["heatmaps"] - batch["heatmaps"]) ** 2 * hm_mask).sum() / (
        hm_mask.sum() * outputs["heatmaps"].shape[2] * outputs["heatmaps"].shape[3]).clamp(min=1)
    paf = ((outputs["pafs"] - batch["pafs"]) ** 2 * paf_mask).sum() / (
        paf_mask.sum() * outputs["pafs"].shape[2] * outputs["pafs"].shape[3]).clamp(min=1)
    weight = batch["encoding_weight"]
    encoding = ((outputs["encodings"] - batch["encodings"]) ** 2 * weight).sum() / weight.sum().clamp(min=1)
    return {"heatmap": heatmap, "paf": paf, "encoding": encoding,
            "total": heatmap + paf + ENCODING_LOSS_WEIGHT * encoding}


def train_stage1(net: StageI, samples: list[Sample], config: Stage1TrainConfig,
                 log_every: int = 100) -> list[float]:
    """Train ``net`` in place; returns the total loss of every step."""
    if not samples:
        raise MocapError("No training images with annotated people.")
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    device = torch.device(config.device)
    net.to(device).train()
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step / config.steps, 1.0))))
    history = []
    with Progress(total=config.steps, label="stage1", unit="step") as bar:
        for step in range(config.steps):
            indices = rng.integers(0, len(samples), config.batch)
            batch = {key: value.to(device) for key, value in make_batch(samples, indices, config, rng).items()}
            losses = stage1_losses(net(batch["image"]), batch)
            optimiser.zero_grad(set_to_none=True)
            losses["total"].backward()
            optimiser.step()
            schedule.step()
            history.append(losses["total"].item())
            if step % log_every == 0 or step == config.steps - 1:
                logger.info("stage1 step %d: %s", step, {k: round(v.item(), 5) for k, v in losses.items()})
            bar.update()
    return history


def save_checkpoint(net: StageI, path: Path, config: Stage1TrainConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"variant": net.variant, "state_dict": net.state_dict(), "config": asdict(config)}, path)


def load_checkpoint(path: Path) -> StageI:
    """A Stage I network from a checkpoint written by :func:`save_checkpoint`."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        net = StageI(checkpoint["variant"])
        net.load_state_dict(checkpoint["state_dict"])
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises several unrelated types (pickle, zip, key) for foreign files
        from .xnect_weights import first_line  # noqa: PLC0415

        raise MocapError(f"{path} is not a Stage I checkpoint from 'mocap train xnect-stage1' "
                         f"({first_line(exc)}).") from exc
    return net.eval()


def run_stage1_training(config: Stage1TrainConfig, coco: tuple[Path, Path] | None, muco: tuple[Path, Path] | None,
                        distill: Path | None, distill_every: int, init: Path | None, resume: Path | None,
                        out: Path | None, export_size: tuple[int, int], command: str) -> Path:
    """Load the data, build or resume the network, train, save the checkpoint and export the engine."""
    from mocap_app.backends.xnect import xnect_dir  # noqa: PLC0415

    from .xnect_weights import load_backbone_init  # noqa: PLC0415

    started = time.perf_counter()
    samples: list[Sample] = []
    if coco:
        samples += load_coco(*coco)
    if muco:
        samples += load_muco(*muco)
    if distill:
        from .xnect_distill import distill_videos  # noqa: PLC0415
        json_path, image_dir = distill_videos(distill, xnect_dir() / "distill", distill_every)
        samples += load_muco(json_path, image_dir)
    logger.info("%d training images", len(samples))
    net = load_checkpoint(resume) if resume else StageI(config.variant)
    if not resume:
        load_backbone_init(net, init)
    train_stage1(net, samples, config)
    out = out or xnect_dir() / "stage1.onnx"
    save_checkpoint(net, out.with_suffix(".pt"), config)
    metadata = {**{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items() if v is not None},
                "images": len(samples), "reproduce": command, "wall_s": round(time.perf_counter() - started, 1)}
    export_stage1(net.cpu().eval(), out, export_size, metadata)
    return out
