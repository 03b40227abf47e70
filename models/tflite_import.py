"""Read a TFLite flatbuffer into a plain op graph with every weight as a dense float32 array.

The BlazePose networks ship as TFLite files whose weights are float16 behind ``DEQUANTIZE`` ops and,
in the detector, stored sparse behind ``DENSIFY`` ops. The off-the-shelf converters we tried stop at
``DENSIFY``; this module expands the sparse tensors itself (following the flatbuffer's
``SparsityParameters``: traversal order, block map and per-level DENSE / SPARSE_CSR metadata),
folds both weight-only ops into constants and hands :mod:`models.blazepose` a graph of compute ops.

The flatbuffer is parsed with the ``tflite`` package (generated flatbuffer accessors, no
TensorFlow). Tensors stay in TFLite's own NHWC layout here; the torch side converts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tflite

logger = logging.getLogger(__name__)

#: TFLite tensor type code -> numpy dtype (only the types these networks use).
_DTYPES = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.FLOAT16: np.float16,
    tflite.TensorType.INT32: np.int32,
    tflite.TensorType.UINT8: np.uint8,
    tflite.TensorType.INT8: np.int8,
    tflite.TensorType.INT64: np.int64,
}
_OP_NAMES = {code: name for name, code in vars(tflite.BuiltinOperator).items() if not name.startswith("_")}
_ACTIVATIONS = {code: name for name, code in vars(tflite.ActivationFunctionType).items() if not name.startswith("_")}
_PADDINGS = {code: name for name, code in vars(tflite.Padding).items() if not name.startswith("_")}

#: Ops that only transform constant weights; they are folded away at import.
_WEIGHT_OPS = ("DENSIFY", "DEQUANTIZE")

#: op name -> (options class, {our option key: accessor method}) for the options we read.
_OPTION_READERS: dict[str, tuple[type, dict[str, str]]] = {
    "CONV_2D": (tflite.Conv2DOptions, {"padding": "Padding", "stride_h": "StrideH", "stride_w": "StrideW",
                                       "dilation_h": "DilationHFactor", "dilation_w": "DilationWFactor",
                                       "activation": "FusedActivationFunction"}),
    "DEPTHWISE_CONV_2D": (tflite.DepthwiseConv2DOptions, {
        "padding": "Padding", "stride_h": "StrideH", "stride_w": "StrideW", "depth_multiplier": "DepthMultiplier",
        "dilation_h": "DilationHFactor", "dilation_w": "DilationWFactor", "activation": "FusedActivationFunction"}),
    "MAX_POOL_2D": (tflite.Pool2DOptions, {"padding": "Padding", "stride_h": "StrideH", "stride_w": "StrideW",
                                           "filter_h": "FilterHeight", "filter_w": "FilterWidth",
                                           "activation": "FusedActivationFunction"}),
    "ADD": (tflite.AddOptions, {"activation": "FusedActivationFunction"}),
    "CONCATENATION": (tflite.ConcatenationOptions, {"axis": "Axis", "activation": "FusedActivationFunction"}),
    "RESIZE_BILINEAR": (tflite.ResizeBilinearOptions, {"align_corners": "AlignCorners",
                                                       "half_pixel_centers": "HalfPixelCenters"}),
    "DEPTH_TO_SPACE": (tflite.DepthToSpaceOptions, {"block_size": "BlockSize"}),
}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the graph.

    Attributes:
        name: the flatbuffer's tensor name.
        shape: static shape in TFLite's layout (NHWC for images, OHWI for conv weights).
        data: the constant value (dense; float16 weights already float32), or ``None`` for
            activations computed at run time.
    """

    name: str
    shape: tuple[int, ...]
    data: np.ndarray | None = None


@dataclass(frozen=True)
class OpInfo:
    """One compute op: its TFLite name, tensor indices and decoded options (enum values as names)."""

    kind: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TfliteGraph:
    """A single-subgraph TFLite model as compute ops over tensors, weights folded to constants."""

    tensors: tuple[TensorInfo, ...]
    ops: tuple[OpInfo, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def tensor_name(self, index: int) -> str:
        return self.tensors[index].name


def _index_vector(union_table: object, union_type: int) -> np.ndarray:
    """Decode a ``SparseIndexVector`` union (int32 / uint16 / uint8 vector) into an int64 array."""
    classes = {tflite.SparseIndexVector.Int32Vector: tflite.Int32Vector,
               tflite.SparseIndexVector.Uint16Vector: tflite.Uint16Vector,
               tflite.SparseIndexVector.Uint8Vector: tflite.Uint8Vector}
    if union_type not in classes:
        raise ValueError(f"Unsupported sparse index vector type {union_type}.")
    vector = classes[union_type]()
    vector.Init(union_table.Bytes, union_table.Pos)
    return np.asarray(vector.ValuesAsNumpy(), dtype=np.int64)


def densify(values: np.ndarray, dense_shape: tuple[int, ...], sparsity: tflite.SparsityParameters) -> np.ndarray:
    """Expand a TFLite sparse tensor to its dense array.

    The stored values are the non-zeros in the order of a depth-first walk over the levels of
    ``traversal_order`` (original dimensions first, then block dimensions). A DENSE level visits
    every index below its ``dense_size``; a SPARSE_CSR level visits the indices listed between
    ``array_segments[parent]`` and ``array_segments[parent + 1]``, where ``parent`` is the position
    reached at the level above. Walking level by level with vectorised numpy keeps that order.

    Args:
        values: (N,) the stored non-zero values, in storage order.
        dense_shape: the tensor's dense shape.
        sparsity: the tensor's ``SparsityParameters`` table.

    Returns:
        Array of ``dense_shape`` with the values scattered in and zeros elsewhere.
    """
    rank = len(dense_shape)
    traversal = [int(v) for v in sparsity.TraversalOrderAsNumpy()] if sparsity.TraversalOrderLength() else \
        list(range(rank))
    block_map = [int(v) for v in sparsity.BlockMapAsNumpy()] if sparsity.BlockMapLength() else []
    levels = len(traversal)
    if sparsity.DimMetadataLength() != levels:
        raise ValueError(f"Sparsity has {sparsity.DimMetadataLength()} dim metadata for {levels} levels.")
    block_sizes = [sparsity.DimMetadata(rank + i).DenseSize() for i in range(len(block_map))]

    positions = np.zeros(1, dtype=np.int64)            # position reached at the previous level
    coords = np.zeros((1, 0), dtype=np.int64)          # per path: the index chosen at each level
    for level in range(levels):
        meta = sparsity.DimMetadata(level)
        if meta.Format() == tflite.DimensionType.DENSE:
            size = meta.DenseSize()
            child = np.arange(size, dtype=np.int64)
            new_positions = (positions[:, None] * size + child[None, :]).ravel()
            level_index = np.tile(child, len(positions))
            parents = np.repeat(np.arange(len(positions)), size)
        else:
            segments = _index_vector(meta.ArraySegments(), meta.ArraySegmentsType())
            indices = _index_vector(meta.ArrayIndices(), meta.ArrayIndicesType())
            starts, ends = segments[positions], segments[positions + 1]
            counts = ends - starts
            parents = np.repeat(np.arange(len(positions)), counts)
            # Concatenated ranges start..end for every parent, in parent order.
            new_positions = np.arange(counts.sum(), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts) \
                + np.repeat(starts, counts)
            level_index = indices[new_positions]
        coords = np.concatenate([coords[parents], level_index[:, None]], axis=1)
        positions = new_positions
    if len(coords) != values.size:
        raise ValueError(f"Sparse tensor walk gives {len(coords)} positions for {values.size} stored values.")

    original = np.zeros((len(coords), rank), dtype=np.int64)
    for level in range(rank):
        original[:, traversal[level]] = coords[:, level]
    for level in range(rank, levels):
        block = traversal[level] - rank
        dim = block_map[block]
        original[:, dim] = original[:, dim] * block_sizes[block] + coords[:, level]
    dense = np.zeros(dense_shape, dtype=values.dtype)
    dense[tuple(original.T)] = values.ravel()
    return dense


def _read_options(op: tflite.Operator, kind: str) -> dict[str, object]:
    if kind not in _OPTION_READERS:
        return {}
    cls, fields = _OPTION_READERS[kind]
    table = op.BuiltinOptions()
    options = cls()
    options.Init(table.Bytes, table.Pos)
    decoded: dict[str, object] = {}
    for key, accessor in fields.items():
        value = getattr(options, accessor)()
        if key == "activation":
            value = _ACTIVATIONS[value]
        elif key == "padding":
            value = _PADDINGS[value]
        decoded[key] = value
    return decoded


def _raw_tensor(model: tflite.Model, tensor: tflite.Tensor) -> np.ndarray | None:
    """The tensor's stored bytes as an array (sparse tensors still sparse), or ``None``."""
    buffer = model.Buffers(tensor.Buffer())
    if buffer is None or buffer.DataLength() == 0:
        return None
    if tensor.Type() not in _DTYPES:
        raise ValueError(f"Tensor {tensor.Name().decode()!r} has unsupported type {tensor.Type()}.")
    values = buffer.DataAsNumpy().view(_DTYPES[tensor.Type()])
    if tensor.Sparsity() is not None:
        return values
    return values.reshape(tuple(int(v) for v in tensor.ShapeAsNumpy()))


def read_tflite(path: str | Path) -> TfliteGraph:
    """Parse a TFLite file and fold its weight ops into dense float32 constants.

    Args:
        path: the ``.tflite`` file.

    Returns:
        The compute graph; every tensor feeding a compute op is either an activation or a dense
        constant (float16 weights widened to float32, which is exact).

    Raises:
        ValueError: the model has several subgraphs or an op this reader cannot fold.
    """
    model = tflite.Model.GetRootAsModel(Path(path).read_bytes(), 0)
    if model.SubgraphsLength() != 1:
        raise ValueError(f"{path}: expected one subgraph, found {model.SubgraphsLength()}.")
    graph = model.Subgraphs(0)
    codes = [max(model.OperatorCodes(i).BuiltinCode(), model.OperatorCodes(i).DeprecatedBuiltinCode())
             for i in range(model.OperatorCodesLength())]

    raw: dict[int, np.ndarray] = {}
    shapes: list[tuple[int, ...]] = []
    names: list[str] = []
    for index in range(graph.TensorsLength()):
        tensor = graph.Tensors(index)
        shape = tuple(int(v) for v in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
        shapes.append(shape)
        names.append(tensor.Name().decode())
        data = _raw_tensor(model, tensor)
        if data is not None:
            raw[index] = densify(data, shape, tensor.Sparsity()) if tensor.Sparsity() is not None else data

    ops: list[OpInfo] = []
    for index in range(graph.OperatorsLength()):
        op = graph.Operators(index)
        kind = _OP_NAMES[codes[op.OpcodeIndex()]]
        inputs = tuple(int(v) for v in op.InputsAsNumpy())
        outputs = tuple(int(v) for v in op.OutputsAsNumpy())
        if kind in _WEIGHT_OPS:
            source = raw.get(inputs[0])
            if source is None:
                raise ValueError(f"{path}: {kind} op {index} reads a non-constant tensor.")
            # DENSIFY inputs were expanded when read; DEQUANTIZE of float16 is a widening cast.
            raw[outputs[0]] = source.astype(np.float32) if kind == "DEQUANTIZE" else source
            continue
        ops.append(OpInfo(kind, inputs, outputs, _read_options(op, kind)))

    tensors = tuple(TensorInfo(names[i], shapes[i], raw.get(i)) for i in range(len(names)))
    logger.info("Read %s: %d compute ops, %d constants", path, len(ops), len(raw))
    return TfliteGraph(tensors=tensors, ops=tuple(ops), inputs=tuple(int(v) for v in graph.InputsAsNumpy()),
                       outputs=tuple(int(v) for v in graph.OutputsAsNumpy()))
