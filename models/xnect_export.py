"""ONNX export of XNect Stage I and Stage II, each with its sidecar contract (``.toml``).

The sidecar follows :mod:`models.export` (format, input/outputs with shapes, dtypes and layouts) and
adds what the decoder must not guess: joint sets, PAF bone order, output stride, normalisation, and
for Stage II the input layout and training metadata. Stage I is exported with dynamic height and
width (multiples of 16); the backend feeds the size in ``input.size``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from mocap_app.checksums import file_sha256
from mocap_app.skeletons.xnect import PAF_LIMBS, STAGE1_SET, STAGE2_SET
from mocap_app.xnect.features import INPUT_MODES, NOMINAL_SCALE_KEY

from .export import ONNX_OPSET, SIDECAR_FORMAT, dump_toml
from .xnect import IMAGE_MEAN, IMAGE_STD, OUTPUT_STRIDE, StageI, StageII

logger = logging.getLogger(__name__)

#: Default network input (width, height): the live XNect system's full-frame size.
STAGE1_INPUT_SIZE = (512, 320)
STAGE1_OUTPUTS = ("heatmaps", "pafs", "encodings")


def _export(module: torch.nn.Module, example: torch.Tensor, path: Path, input_name: str,
            output_names: list[str], dynamic_axes: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (example,), str(path), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=[input_name], output_names=output_names, dynamic_axes=dynamic_axes)


class _StageIOutputs(torch.nn.Module):
    """Stage I returning its three maps as a tuple (ONNX outputs are positional)."""

    def __init__(self, net: StageI) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.net(image)
        return out["heatmaps"], out["pafs"], out["encodings"]


def export_stage1(net: StageI, path: str | Path, size: tuple[int, int] = STAGE1_INPUT_SIZE,
                  metadata: dict | None = None) -> Path:
    """Write ``path`` (.onnx) and its sidecar; ``size`` = (width, height) the backend will feed."""
    path = Path(path)
    width, height = size
    if width % 16 or height % 16:
        raise ValueError(f"Stage I input size must be multiples of 16, got {width}x{height}.")
    joints, limbs = STAGE1_SET.num_joints, len(PAF_LIMBS)
    dynamic = {"image": {2: "height", 3: "width"}, **{name: {2: "h8", 3: "w8"} for name in STAGE1_OUTPUTS}}
    _export(_StageIOutputs(net), torch.zeros(1, 3, height, width), path, "image", list(STAGE1_OUTPUTS), dynamic)
    h8, w8 = height // OUTPUT_STRIDE, width // OUTPUT_STRIDE
    sidecar = {
        "format": SIDECAR_FORMAT, "name": "xnect_stage1", "variant": net.variant,
        "description": "XNect Stage I: SelecSLS core, 2D branch (heatmaps + PAFs) and 3D branch (channel-sparse "
                       "parent-relative encodings), stride 8",
        "onnx_sha256": file_sha256(path),
        "input": {"name": "image", "layout": "NCHW", "channel_order": "RGB", "range": [0.0, 1.0],
                  "mean": list(IMAGE_MEAN), "std": list(IMAGE_STD), "resize": "letterbox", "border": "zero",
                  "size": [width, height], "shape": [1, 3, -1, -1], "dtype": "float32"},
        "outputs": [
            {"name": "heatmaps", "layout": f"(1, {joints}, H/8, W/8) unit-peak Gaussians per joint",
             "shape": [1, joints, -1, -1], "dtype": "float32"},
            {"name": "pafs", "layout": f"(1, {2 * limbs}, H/8, W/8) x, y of the unit vector joint -> parent, "
                                       "per bone in paf_limbs order", "shape": [1, 2 * limbs, -1, -1],
             "dtype": "float32"},
            {"name": "encodings", "layout": f"(1, {3 * joints}, H/8, W/8) triplet j = joint j minus its parent, "
                                            "metres, camera axes", "shape": [1, 3 * joints, -1, -1],
             "dtype": "float32"},
        ],
        "keypoint_schema": STAGE1_SET.name, "output_stride": OUTPUT_STRIDE,
        "paf_limbs": [[STAGE1_SET.joints[c], STAGE1_SET.joints[p]] for c, p in PAF_LIMBS],
        "nominal_output_size": [w8, h8],
        **({"training": metadata} if metadata else {}),
    }
    path.with_suffix(".toml").write_text(dump_toml(sidecar) + "\n", encoding="utf-8")
    logger.info("Exported Stage I -> %s", path)
    return path


def export_stage2(net: StageII, path: str | Path, metadata: dict | None = None, mode: str = "2d+conf+enc",
                  nominal_scale: float | None = None) -> Path:
    """Write ``path`` (.onnx, batch dimension dynamic) and its sidecar with the training ``metadata``.

    ``mode`` names the input (``mocap_app.xnect.features.INPUT_MODES``); modes without encodings are
    the 2D-only lifter, whose output is scaled to ``nominal_scale`` (mean bone length, metres).
    """
    path = Path(path)
    dynamic = {"features": {0: "people"}, "joints3d": {0: "people"}}
    _export(net, torch.zeros(2, net.input_size), path, "features", ["joints3d"], dynamic)
    lifter = not INPUT_MODES[mode][2]
    if lifter:
        name, what = "xnect_stage2_2d", ("2D-only Stage II lifter: 5-layer fully connected net, one person's 2D "
                                          "joints and confidences -> full root-relative 3D pose")
        layout = (f"(P, {net.input_size}): per {STAGE1_SET.name} joint (u, v) neck-relative / person size, "
                  f"confidence{'' if INPUT_MODES[mode][1] else ' (zero)'}; zeros when undetected; other joint "
                  "sets (coco17, blazepose33) are mapped to it first (mocap_app.xnect.lifter)")
        scale = f", scaled to a mean bone length of {nominal_scale:.4f} m"
    else:
        name, what = "xnect_stage2", ("XNect Stage II: 5-layer fully connected net, per-person Stage I readouts -> "
                                      "full root-relative 3D pose")
        layout = (f"(P, {net.input_size}): per {STAGE1_SET.name} joint (u, v) neck-relative / person size, "
                  "confidence, 3J encoding; zeros when undetected (mocap_app.xnect.features)")
        scale = ""
    sidecar = {
        "format": SIDECAR_FORMAT, "name": name, "description": what, "onnx_sha256": file_sha256(path),
        "input": {"name": "features", "layout": layout, "shape": [-1, net.input_size], "dtype": "float32"},
        "outputs": [{"name": "joints3d", "layout": f"(P, {3 * net.output_joints}) {STAGE2_SET.name} joints minus "
                                                   f"the pelvis, metres{scale}, camera axes (x right, y down, "
                                                   "z forward)",
                     "shape": [-1, 3 * net.output_joints], "dtype": "float32"}],
        "input_schema": STAGE1_SET.name, "keypoint_schema": STAGE2_SET.name, "input_mode": mode,
        **({NOMINAL_SCALE_KEY: round(nominal_scale, 5)} if lifter and nominal_scale is not None else {}),
        **({"training": metadata} if metadata else {}),
    }
    path.with_suffix(".toml").write_text(dump_toml(sidecar) + "\n", encoding="utf-8")
    logger.info("Exported %s -> %s", name, path)
    return path
