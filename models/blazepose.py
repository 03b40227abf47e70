"""BlazePose GHUM (detector + full landmark network) rebuilt as torch modules from the TFLite files.

Paper: V. Bazarevsky et al., "BlazePose: On-device Real-time Body Pose tracking", CVPR Workshop on
Computer Vision for Augmented and Virtual Reality 2020, https://arxiv.org/abs/2006.10204; GHUM 3D
landmarks: I. Grishchenko et al., "BlazePose GHUM Holistic", https://arxiv.org/abs/2206.11678.
Weights: Google's ``pose_detection.tflite`` and ``pose_landmark_full.tflite`` from the
``mediapipe==0.10.21`` wheel, Apache-2.0. The code here is ours: a generic interpreter that turns
the TFLite op graph (read by :mod:`models.tflite_import`) into an ``nn.Module`` with the same
weights, so the exported ONNX computes what the TFLite file computes.

Layout: TFLite is NHWC, torch convolutions are NCHW. The module keeps TFLite's interface (NHWC
input, outputs in their TFLite shapes) and runs NCHW inside: the input is permuted once, 4-D
activations stay NCHW, and a tensor is permuted back to NHWC only where its memory order matters
(``RESHAPE``, graph outputs).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .tflite_import import OpInfo, TfliteGraph

#: Fused activation name (TFLite enum) -> function.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "NONE": lambda x: x,
    "RELU": F.relu,
    "RELU6": lambda x: torch.clamp(x, 0.0, 6.0),
}

#: (N, C, H, W) <-> (N, H, W, C)
_TO_NHWC = (0, 2, 3, 1)
_TO_NCHW = (0, 3, 1, 2)


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite/TensorFlow SAME padding along one axis: (before, after) with the extra pixel after.

    TensorFlow pads ``max((ceil(size / stride) - 1) * stride + effective_kernel - size, 0)`` in
    total and puts the odd pixel at the end, unlike torch's symmetric ``padding=``; stride-2 convs
    on even sizes and even kernels therefore need an explicit asymmetric pad.
    """
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


class TfliteGraphModule(nn.Module):
    """Executes a :class:`~models.tflite_import.TfliteGraph` with torch ops.

    Supported ops: CONV_2D, DEPTHWISE_CONV_2D, ADD, PAD, MAX_POOL_2D, RESIZE_BILINEAR,
    DEPTH_TO_SPACE, RESHAPE, CONCATENATION, LOGISTIC (weights folded at import).

    Args:
        graph: the imported graph.
        input_names: names for the graph inputs (used by ONNX export).
        output_names: names for the graph outputs, in the TFLite output order.

    Example:
        >>> module = TfliteGraphModule(read_tflite("pose_detection.tflite"))  # doctest: +SKIP
        >>> boxes, scores = module(torch.zeros(1, 224, 224, 3))  # doctest: +SKIP
    """

    SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "PAD", "MAX_POOL_2D", "RESIZE_BILINEAR", "DEPTH_TO_SPACE",
                 "RESHAPE", "CONCATENATION", "LOGISTIC")

    def __init__(self, graph: TfliteGraph) -> None:
        super().__init__()
        unsupported = sorted({op.kind for op in graph.ops} - set(self.SUPPORTED))
        if unsupported:
            raise ValueError(f"Unsupported TFLite ops {unsupported}; supported: {', '.join(self.SUPPORTED)}.")
        self.graph = graph
        self._constants: dict[int, str] = {}
        for op in graph.ops:
            if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                self._register_weight(op.inputs[1], self._conv_weight(op))
                if len(op.inputs) > 2 and op.inputs[2] >= 0:
                    self._register_weight(op.inputs[2], torch.from_numpy(graph.tensors[op.inputs[2]].data.copy()))
            elif op.kind == "ADD":
                for index in op.inputs:
                    if graph.tensors[index].data is not None:
                        self._register_weight(index, self._activation_constant(index))

    def _register_weight(self, index: int, value: torch.Tensor) -> None:
        name = f"t{index}"
        self.register_buffer(name, value.float().contiguous())
        self._constants[index] = name

    def _conv_weight(self, op: OpInfo) -> torch.Tensor:
        data = torch.from_numpy(self.graph.tensors[op.inputs[1]].data.copy())
        if op.kind == "CONV_2D":
            return data.permute(0, 3, 1, 2)                         # OHWI -> OIHW
        # Depthwise weights are (1, H, W, C * multiplier) -> (C * multiplier, 1, H, W).
        return data.permute(3, 0, 1, 2)

    def _activation_constant(self, index: int) -> torch.Tensor:
        data = torch.from_numpy(self.graph.tensors[index].data.copy())
        return data.permute(*_TO_NCHW) if data.dim() == 4 else data

    def _shape(self, index: int) -> tuple[int, ...]:
        return self.graph.tensors[index].shape

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        values: dict[int, torch.Tensor] = {}
        for index, tensor in zip(self.graph.inputs, inputs, strict=True):
            values[index] = tensor.permute(*_TO_NCHW) if tensor.dim() == 4 else tensor
        for index, name in self._constants.items():
            values[index] = getattr(self, name)
        for op in self.graph.ops:
            values[op.outputs[0]] = getattr(self, f"_op_{op.kind.lower()}")(op, values)
        outputs = []
        for index in self.graph.outputs:
            tensor = values[index]
            outputs.append(tensor.permute(*_TO_NHWC) if tensor.dim() == 4 else tensor)
        return tuple(outputs)

    # --- ops: each takes the op and the value table, returns the output (NCHW when 4-D) ---

    def _padded(self, x: torch.Tensor, op: OpInfo, kernel: tuple[int, int],
                value: float = 0.0) -> tuple[torch.Tensor, tuple[int, int]]:
        """Apply the op's SAME padding: symmetric padding is returned for the op itself to apply
        (one fused ONNX node), asymmetric padding is applied here with an explicit pad."""
        if op.options["padding"] != "SAME":
            return x, (0, 0)
        in_h, in_w = self._shape(op.inputs[0])[1:3]
        top, bottom = same_padding(in_h, kernel[0], int(op.options["stride_h"]), int(op.options.get("dilation_h", 1)))
        left, right = same_padding(in_w, kernel[1], int(op.options["stride_w"]), int(op.options.get("dilation_w", 1)))
        if top == bottom and left == right:
            return x, (top, left)
        return F.pad(x, (left, right, top, bottom), value=value), (0, 0)

    def _conv(self, op: OpInfo, values: dict[int, torch.Tensor], groups: int) -> torch.Tensor:
        weight = values[op.inputs[1]]
        bias = values[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        x, padding = self._padded(values[op.inputs[0]], op, (weight.shape[2], weight.shape[3]))
        stride = (int(op.options["stride_h"]), int(op.options["stride_w"]))
        y = F.conv2d(x, weight, bias, stride=stride, padding=padding,
                     dilation=(int(op.options["dilation_h"]), int(op.options["dilation_w"])), groups=groups)
        return ACTIVATIONS[str(op.options["activation"])](y)

    def _op_conv_2d(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        return self._conv(op, values, groups=1)

    def _op_depthwise_conv_2d(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        return self._conv(op, values, groups=self._shape(op.inputs[0])[3])

    def _op_add(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        return ACTIVATIONS[str(op.options["activation"])](values[op.inputs[0]] + values[op.inputs[1]])

    def _op_pad(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        pads = self.graph.tensors[op.inputs[1]].data.reshape(-1, 2)      # NHWC rows of (before, after)
        if pads[0].any() or pads[3].any():
            raise ValueError(f"PAD of batch or channels is not supported (op output {op.outputs[0]}).")
        (top, bottom), (left, right) = pads[1], pads[2]
        return F.pad(values[op.inputs[0]], (int(left), int(right), int(top), int(bottom)))

    def _op_max_pool_2d(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        kernel = (int(op.options["filter_h"]), int(op.options["filter_w"]))
        x, padding = self._padded(values[op.inputs[0]], op, kernel, value=float("-inf"))
        # torch pads max-pool windows with -inf too, so symmetric SAME padding matches TFLite.
        y = F.max_pool2d(x, kernel, stride=(int(op.options["stride_h"]), int(op.options["stride_w"])), padding=padding)
        return ACTIVATIONS[str(op.options["activation"])](y)

    def _op_resize_bilinear(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        size = tuple(int(v) for v in self._shape(op.outputs[0])[1:3])
        if op.options["align_corners"]:
            return F.interpolate(values[op.inputs[0]], size=size, mode="bilinear", align_corners=True)
        if op.options["half_pixel_centers"]:
            # TFLite half_pixel_centers == torch align_corners=False (source = (dst + 0.5) * scale - 0.5).
            return F.interpolate(values[op.inputs[0]], size=size, mode="bilinear", align_corners=False)
        raise ValueError("RESIZE_BILINEAR without align_corners or half_pixel_centers is not supported.")

    def _op_depth_to_space(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        # TensorFlow's DCR order: input channel (i * block + j) * C_out + c -> output (h*block+i, w*block+j, c).
        block = int(op.options["block_size"])
        x = values[op.inputs[0]]
        n, channels, height, width = x.shape
        out_channels = channels // (block * block)
        x = x.reshape(n, block, block, out_channels, height, width)           # (N, i, j, C, H, W)
        x = x.permute(0, 3, 4, 1, 5, 2)                                       # (N, C, H, i, W, j)
        return x.reshape(n, out_channels, height * block, width * block)

    def _op_reshape(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        x = values[op.inputs[0]]
        if x.dim() == 4:
            x = x.permute(*_TO_NHWC)          # reshape works on TFLite's NHWC memory order
        return x.reshape(self._shape(op.outputs[0]))

    def _op_concatenation(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        parts = [values[index] for index in op.inputs]
        axis = int(op.options["axis"])
        if parts[0].dim() == 4:
            axis = _TO_NCHW.index(axis % 4)    # NHWC axis -> the NCHW axis holding it
        return ACTIVATIONS[str(op.options["activation"])](torch.cat(parts, dim=axis))

    def _op_logistic(self, op: OpInfo, values: dict[int, torch.Tensor]) -> torch.Tensor:
        return torch.sigmoid(values[op.inputs[0]])
