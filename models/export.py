"""Convert the BlazePose TFLite files to ONNX, each with its sidecar contract (``.toml``).

The sidecar (house style rule 12) states everything the engine and the backend must not guess:
input name, shape, dtype, layout, channel order and value range; each output's name, shape and
layout; the keypoint schema; recommended thresholds; and, for the detector, the SSD anchor
configuration. The runtime (:mod:`engines.engine`) checks it against the ONNX file at load.

The graph stays the network alone (rule 9): letterboxing, cropping, anchor decoding, NMS and
coordinate back-mapping run in numpy in :mod:`engines` and :mod:`mocap_app.backends.blazepose`.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch

from mocap_app.checksums import file_sha256

from .blazepose import TfliteGraphModule
from .tflite_import import read_tflite

logger = logging.getLogger(__name__)

#: Version of the sidecar layout written here; the engine refuses files it does not know.
SIDECAR_FORMAT = 1
ONNX_OPSET = 17

#: Contract of each network, written into its sidecar. Output order = TFLite output order.
CONTRACTS: dict[str, dict] = {
    "pose_detection": {
        "description": "BlazePose person detector (SSD, 2254 anchors, 4 alignment keypoints)",
        "input": {"name": "image", "layout": "NHWC", "channel_order": "RGB", "range": [-1.0, 1.0],
                  "mean": [127.5, 127.5, 127.5], "std": [127.5, 127.5, 127.5], "resize": "letterbox",
                  "border": "zero"},
        "outputs": [
            {"name": "boxes", "layout": "(1, A, 12): box centre x, y, width, height, then keypoints 0-3 as x, y; "
                                        "input pixels, centres relative to the anchor centre"},
            {"name": "scores", "layout": "(1, A, 1): logits, sigmoid after clipping to +-score_clip"},
        ],
        "keypoints": ["mid_hip", "full_body_scale_rotation", "mid_shoulder", "upper_body_scale_rotation"],
        "thresholds": {"score": 0.5, "score_clip": 100.0, "nms_iou": 0.3},
        "anchors": {"num_layers": 5, "strides": [8, 16, 32, 32, 32], "min_scale": 0.1484375, "max_scale": 0.75,
                    "aspect_ratios": [1.0], "offset": 0.5, "fixed_anchor_size": True,
                    "interpolated_scale_aspect_ratio": 1.0},
        "roi": {"center_keypoint": 0, "scale_keypoint": 1, "target_angle_deg": 90.0, "scale": 1.25},
    },
    "pose_landmark_full": {
        "description": "BlazePose GHUM full landmark network (39 landmarks, world landmarks, heatmaps)",
        "input": {"name": "image", "layout": "NHWC", "channel_order": "RGB", "range": [0.0, 1.0],
                  "mean": [0.0, 0.0, 0.0], "std": [255.0, 255.0, 255.0], "resize": "rotated_roi_crop",
                  "border": "replicate"},
        "outputs": [
            {"name": "landmarks", "layout": "(1, 195) = 39 x (x, y, z, visibility logit, presence logit); "
                                            "x, y, z in input pixels"},
            {"name": "pose_flag", "layout": "(1, 1) person presence probability (sigmoid applied in-graph)"},
            {"name": "segmentation", "layout": "(1, 256, 256, 1) person mask logits"},
            {"name": "heatmap", "layout": "(1, 64, 64, 39) per-landmark heatmap logits"},
            {"name": "world_landmarks", "layout": "(1, 117) = 39 x (x, y, z) metres, origin at the hips' centre"},
        ],
        "keypoint_schema": "blazepose33",
        "num_landmarks": 39,
        "num_body_landmarks": 33,
        "auxiliary_landmarks": {"center": 33, "scale_rotation": 34},
        "thresholds": {"pose_flag": 0.5, "heatmap_kernel": 7, "heatmap_min_confidence": 0.5},
        "roi": {"target_angle_deg": 90.0, "scale": 1.25},
    },
}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value)) if isinstance(value, (float, np.floating)) else str(int(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"Cannot write {type(value).__name__} to TOML.")


def dump_toml(data: dict, prefix: str = "") -> str:
    """Minimal TOML writer for the sidecar: scalars, arrays, tables and arrays of tables."""
    lines: list[str] = []
    tables: list[tuple[str, dict]] = []
    arrays: list[tuple[str, list[dict]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in tables:
        lines += ["", f"[{prefix}{key}]", dump_toml(value, prefix=f"{prefix}{key}.")]
    for key, items in arrays:
        for item in items:
            lines += ["", f"[[{prefix}{key}]]", dump_toml(item, prefix=f"{prefix}{key}.")]
    return "\n".join(lines).strip("\n")


def convert_tflite(tflite_path: str | Path, name: str, out_dir: str | Path) -> Path:
    """Rebuild one BlazePose network in torch, export it to ONNX and write its sidecar.

    Args:
        tflite_path: the verified ``.tflite`` file.
        name: a key of :data:`CONTRACTS` (``"pose_detection"`` or ``"pose_landmark_full"``).
        out_dir: folder receiving ``<name>.onnx`` and ``<name>.toml``.

    Returns:
        Path of the ONNX file.
    """
    if name not in CONTRACTS:
        raise ValueError(f"Unknown network {name!r}; valid: {', '.join(sorted(CONTRACTS))}.")
    contract = CONTRACTS[name]
    graph = read_tflite(tflite_path)
    module = TfliteGraphModule(graph).eval()
    input_shape = graph.tensors[graph.inputs[0]].shape
    output_names = [output["name"] for output in contract["outputs"]]
    if len(output_names) != len(graph.outputs):
        raise ValueError(f"{tflite_path}: {len(graph.outputs)} outputs, contract lists {len(output_names)}.")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")   # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, (torch.zeros(input_shape),), str(onnx_path), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=[contract["input"]["name"]], output_names=output_names)
    _check_onnx(onnx_path)

    sidecar = {
        "format": SIDECAR_FORMAT, "name": name, "description": contract["description"],
        "source": Path(tflite_path).name, "source_sha256": file_sha256(tflite_path),
        "onnx_sha256": file_sha256(onnx_path),
        "input": {**contract["input"], "shape": list(input_shape), "dtype": "float32"},
        "outputs": [{**output, "shape": list(graph.tensors[index].shape), "dtype": "float32"}
                    for output, index in zip(contract["outputs"], graph.outputs, strict=True)],
        **{key: value for key, value in contract.items() if key not in ("description", "input", "outputs")},
    }
    onnx_path.with_suffix(".toml").write_text(dump_toml(sidecar) + "\n", encoding="utf-8")
    logger.info("Exported %s -> %s", tflite_path, onnx_path)
    return onnx_path


def _check_onnx(path: Path) -> None:
    """Run ``onnx.checker`` when the ``onnx`` package is installed (a dev dependency)."""
    try:
        import onnx
    except ModuleNotFoundError:
        logger.info("onnx not installed; skipping onnx.checker for %s", path)
        return
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
