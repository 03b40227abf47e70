"""Our ONNX port of the BlazePose networks matches the original TFLite files run by LiteRT.

Real inputs: letterboxed frames of vtest.avi for the detector, crops of the people in it for the
landmark network. Every output must match within 1e-3 of its range. Also checks the DENSIFY
expansion tensor by tensor against LiteRT's own.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="LiteRT is a dev dependency (pip install -e .[dev])")
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402
from blazepose_support import PEOPLE_FRAME0, models_root, read_frames  # noqa: E402

from engines.engine import load_engine  # noqa: E402
from engines.preprocessing import letterbox, normalise  # noqa: E402
from mocap_app.models_store import blazepose_dir, blazepose_paths  # noqa: E402

RELATIVE_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def store():
    return models_root()


def _litert(path):
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    return interpreter


def _compare(name, store, batch):
    """Run LiteRT and ONNX Runtime on each input; return the worst error / range per output."""
    engine = load_engine(blazepose_paths(store)[name])
    interpreter = _litert(blazepose_dir(store) / "tflite" / f"{name}.tflite")
    worst: dict[str, float] = {}
    for image in batch:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
        interpreter.invoke()
        ours = engine.run({"image": image[None]})
        for detail, output_name in zip(interpreter.get_output_details(), engine.output_names, strict=True):
            reference = interpreter.get_tensor(detail["index"])
            assert reference.shape == ours[output_name].shape
            scale = max(float(reference.max() - reference.min()), float(np.abs(reference).max()), 1e-6)
            error = float(np.abs(reference - ours[output_name]).max()) / scale
            worst[output_name] = max(worst.get(output_name, 0.0), error)
    return worst


def test_detector_matches_litert(store, shared_data):
    frames = read_frames(shared_data, (0, 200, 400))
    batch = []
    for frame in frames:
        image, _ = letterbox(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 224)
        batch.append(normalise(image, -1.0, 1.0))
    worst = _compare("pose_detection", store, batch)
    print("detector max error / range:", worst)
    assert set(worst) == {"boxes", "scores"}
    assert max(worst.values()) < RELATIVE_TOLERANCE


def test_landmark_network_matches_litert(store, shared_data):
    frame = cv2.cvtColor(read_frames(shared_data, (0,))[0], cv2.COLOR_BGR2RGB)
    batch = []
    for cx, cy, side in PEOPLE_FRAME0:
        crop = frame[cy - side // 2: cy + side // 2, cx - side // 2: cx + side // 2]
        batch.append(normalise(cv2.resize(crop, (256, 256), interpolation=cv2.INTER_LINEAR), 0.0, 1.0))
    worst = _compare("pose_landmark_full", store, batch)
    print("landmark max error / range:", worst)
    assert set(worst) == {"landmarks", "pose_flag", "segmentation", "heatmap", "world_landmarks"}
    assert max(worst.values()) < RELATIVE_TOLERANCE


def test_densify_matches_litert(store):
    """Each sparse weight we expand equals the tensor LiteRT's own DENSIFY kernel produces."""
    tflite = pytest.importorskip("tflite")
    from models.tflite_import import read_tflite

    path = blazepose_dir(store) / "tflite" / "pose_detection.tflite"
    graph = read_tflite(path)
    interpreter = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.zeros((1, 224, 224, 3), np.float32))
    interpreter.invoke()
    model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    subgraph = model.Subgraphs(0)
    checked = 0
    for index in range(subgraph.OperatorsLength()):
        op = subgraph.Operators(index)
        code = model.OperatorCodes(op.OpcodeIndex())
        if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) != tflite.BuiltinOperator.DENSIFY:
            continue
        output = int(op.OutputsAsNumpy()[0])
        np.testing.assert_array_equal(graph.tensors[output].data, interpreter.get_tensor(output))
        checked += 1
    assert checked == 38
