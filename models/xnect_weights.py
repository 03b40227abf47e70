"""Weights the XNect engine can take from outside: the SelecSLS-60 ImageNet release and Stage I checkpoints.

* ``import_selecsls60(FILE)``: the authors' ``SelecSLS60_statedict.pth`` (keys of their PyTorch
  release) is loaded into the ImageNet SelecSLS-60 (30.67M parameters; every key and shape must fit),
  then stored in the model store as the backbone initialisation of ``mocap train xnect-stage1``.
* ``import_stage1(CHECKPOINT)``: a checkpoint of ``mocap train xnect-stage1`` exported to
  ``stage1.onnx`` + sidecar in the model store, where the ``xnect`` backend looks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from mocap_app.backends.xnect import xnect_dir
from mocap_app.errors import MocapError

from .selecsls import SelecSLS, count_parameters, load_official_state_dict
from .xnect import StageI
from .xnect_export import STAGE1_INPUT_SIZE, export_stage1

logger = logging.getLogger(__name__)

BACKBONE_INIT_NAME = "selecsls60_imagenet.pt"


def _torch_load(path: Path) -> dict:
    try:
        return torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises several unrelated types for corrupt or foreign files
        raise MocapError(f"{path} is not a PyTorch checkpoint ({first_line(exc)}).") from exc


def first_line(exc: BaseException) -> str:
    """The first sentence of an exception's message: torch's load errors run to a page of advice."""
    lines = str(exc).strip().splitlines()
    return lines[0].split(". ")[0].rstrip(".") if lines else type(exc).__name__


def import_selecsls60(path: Path, root: Path | None = None) -> tuple[Path, int]:
    """Check and store the ImageNet checkpoint; returns (stored path, parameter count)."""
    net = SelecSLS("selecsls60", num_classes=1000)
    try:
        load_official_state_dict(net, _torch_load(path))
    except ValueError as exc:
        raise MocapError(f"{path}: {exc}") from exc
    target = xnect_dir(root) / BACKBONE_INIT_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), target)
    return target, count_parameters(net)


def load_backbone_init(net: StageI, init: Path | None, root: Path | None = None) -> bool:
    """Initialise ``net``'s core from ``init`` or the stored ImageNet weights; False when there are none."""
    path = Path(init) if init else xnect_dir(root) / BACKBONE_INIT_NAME
    if not path.is_file():
        if init:
            raise FileNotFoundError(f"No backbone checkpoint at {path}.")
        logger.warning("No ImageNet SelecSLS-60 weights (mocap weights import selecsls60 FILE): core starts random")
        return False
    if net.backbone.variant != "selecsls60":
        logger.warning("Variant %s has no ImageNet weights; core starts random", net.variant)
        return False
    try:
        load_official_state_dict(net.backbone, _torch_load(path))
    except ValueError as exc:
        raise MocapError(f"{path}: {exc}") from exc
    logger.info("Core initialised from %s", path)
    return True


def import_stage1(checkpoint: Path, size: tuple[int, int] = STAGE1_INPUT_SIZE, root: Path | None = None) -> Path:
    """Export a Stage I training checkpoint into the model store; returns the ONNX path."""
    from .xnect_train_stage1 import load_checkpoint  # noqa: PLC0415

    net = load_checkpoint(checkpoint)
    return export_stage1(net, xnect_dir(root) / "stage1.onnx", size, {"imported_from": str(checkpoint)})
