"""ONNX export of the MultiPoseNet image network and of the PRN, each with its sidecar (``.toml``).

The sidecars follow :mod:`models.export` and add what the decoder must not guess: normalisation,
heatmap stride and channel meaning, the RetinaNet anchor layout and box parameterisation,
thresholds; for the PRN the crop grid, margin and peak sigma (:mod:`mocap_app.multiposenet.prn_io`)
and how it was trained. The image network is exported at a fixed input size (default 384 x 576,
the paper's benchmark size) so the anchors are fixed too; the PRN with a dynamic person axis.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from mocap_app.checksums import file_sha256
from mocap_app.multiposenet import prn_io
from mocap_app.skeletons import COCO17

from .export import ONNX_OPSET, SIDECAR_FORMAT, dump_toml
from .multiposenet import HEATMAP_CHANNELS, HEATMAP_STRIDE, IMAGE_MEAN, IMAGE_STD, MultiPoseNet
from .prn import PoseResidualNetwork

logger = logging.getLogger(__name__)

#: Default image-network input (height, width): the paper's runtime benchmark size.
INPUT_SIZE = (384, 576)
NETWORK_FILE, PRN_FILE = "multiposenet", "prn"
#: Decoding defaults written to the sidecar (the paper's NMS threshold is 0.3).
THRESHOLDS = {"person_score": 0.4, "nms_iou": 0.3, "max_people": 20, "peak": 0.1}


def _export(module: torch.nn.Module, example: torch.Tensor, path: Path, input_name: str,
            output_names: list[str], dynamic_axes: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")   # the TorchScript exporter's deprecation notice
        torch.onnx.export(module.eval(), (example,), str(path), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=[input_name], output_names=output_names, dynamic_axes=dynamic_axes)


def _write_sidecar(path: Path, sidecar: dict) -> None:
    sidecar = {"format": SIDECAR_FORMAT, **sidecar, "onnx_sha256": file_sha256(path)}
    path.with_suffix(".toml").write_text(dump_toml(sidecar) + "\n", encoding="utf-8")
    logger.info("Exported %s", path)


class _Outputs(torch.nn.Module):
    """The network's dict as a tuple (ONNX outputs are positional)."""

    def __init__(self, net: MultiPoseNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.net(image)
        return out["heatmaps"], out["cls_logits"], out["box_deltas"]


def export_multiposenet(net: MultiPoseNet, out_dir: str | Path, input_size: tuple[int, int] = INPUT_SIZE,
                        trained: str = "") -> Path:
    """Write ``multiposenet.onnx`` + ``.toml`` for a (height, width) input; returns the ONNX path.

    Args:
        trained: one line on where the weights come from ("" = random initialisation).
    """
    height, width = input_size
    path = Path(out_dir) / f"{NETWORK_FILE}.onnx"
    net = net.eval()
    example = torch.zeros(1, 3, height, width)
    with torch.no_grad():
        shapes = {name: list(value.shape) for name, value in net(example).items()}
    _export(_Outputs(net), example, path, "image", ["heatmaps", "cls_logits", "box_deltas"])
    anchors = net.spec.anchors
    _write_sidecar(path, {
        "name": NETWORK_FILE, "description": f"MultiPoseNet image network ({net.variant})",
        "variant": net.variant, "trained": trained or "random initialisation (benchmark only)",
        "input": {"name": "image", "layout": "NCHW", "channel_order": "RGB", "resize": "letterbox",
                  "range": [0.0, 1.0], "mean": list(IMAGE_MEAN), "std": list(IMAGE_STD),
                  "shape": [1, 3, height, width], "dtype": "float32"},
        "outputs": [
            {"name": "heatmaps", "layout": f"(1, {HEATMAP_CHANNELS}, H/4, W/4): 17 coco17 keypoint heatmaps, "
                                           "then the person mask", "shape": shapes["heatmaps"], "dtype": "float32"},
            {"name": "cls_logits", "layout": "(1, A) person logits, sigmoid", "shape": shapes["cls_logits"],
             "dtype": "float32"},
            {"name": "box_deltas", "layout": "(1, A, 4) dx, dy, dw, dh per anchor (centre shift / anchor size, "
                                             "log size ratio)", "shape": shapes["box_deltas"], "dtype": "float32"},
        ],
        "keypoint_schema": COCO17.name, "heatmap_stride": HEATMAP_STRIDE,
        "anchors": {"strides": list(anchors.strides), "sizes": list(anchors.sizes), "ratios": list(anchors.ratios),
                    "scales": list(anchors.scales)},
        "thresholds": dict(THRESHOLDS),
    })
    return path


def export_prn(prn: PoseResidualNetwork, out_dir: str | Path, training: dict | None = None) -> Path:
    """Write ``prn.onnx`` + ``.toml`` (dynamic person axis); ``training`` goes into the sidecar."""
    spec = prn.spec
    path = Path(out_dir) / f"{PRN_FILE}.onnx"
    shape = [len(COCO17.joints), spec.height, spec.width]
    _export(prn.eval(), torch.zeros(2, *shape), path, "crops", ["probabilities"],
            {"crops": {0: "people"}, "probabilities": {0: "people"}})
    _write_sidecar(path, {
        "name": PRN_FILE, "description": f"Pose Residual Network ({prn.variant})", "variant": prn.variant,
        "input": {"name": "crops", "layout": "(P, 17, rows, cols): coco17 peaks drawn as Gaussians in each "
                                            "person's crop region", "shape": [-1, *shape], "dtype": "float32"},
        "outputs": [{"name": "probabilities", "layout": "(P, 17, rows, cols) softmax per channel",
                     "shape": [-1, *shape], "dtype": "float32"}],
        "keypoint_schema": COCO17.name,
        "crop": {"rows": spec.height, "cols": spec.width, "margin": prn_io.CROP_MARGIN,
                 "input_sigma_cells": prn_io.INPUT_SIGMA_CELLS, "min_assign_score": prn_io.MIN_ASSIGN_SCORE},
        "training": training or {},
    })
    return path
