"""MultiPoseNet ONNX export (parity with torch), the backend on exported networks, and its refusal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.engine import load_engine
from mocap_app.backends.multiposenet import PACKAGED_PRN, MultiPoseNetBackend
from mocap_app.cli import main
from mocap_app.skeletons import COCO17, MPI3DHP17, map_joints
from mocap_app.types import Frame
from mocap_app.xnect.lifter import MIN_DETECTED_JOINTS
from models.multiposenet import MultiPoseNet
from models.multiposenet_export import export_multiposenet, export_prn
from models.prn import PoseResidualNetwork

SIZE = (128, 192)


@pytest.fixture(scope="module")
def tiny_network(tmp_path_factory):
    torch.manual_seed(0)
    net = MultiPoseNet("tiny").eval()
    with torch.no_grad():  # raised keypoint maps: the random network then has peaks for PRN to assign
        net.keypoint_subnet.out.bias[:COCO17.num_joints] += 1.0
    folder = tmp_path_factory.mktemp("store") / "multiposenet"
    return net, export_multiposenet(net, folder, SIZE)


def test_image_network_onnx_matches_torch(tiny_network):
    net, path = tiny_network
    engine = load_engine(path)
    image = np.random.default_rng(0).normal(0, 1, (1, 3, *SIZE)).astype(np.float32)
    outputs = engine.run({"image": image})
    with torch.no_grad():
        expected = net(torch.from_numpy(image))
    for name in ("heatmaps", "cls_logits", "box_deltas"):
        assert outputs[name].shape == tuple(expected[name].shape)
        assert np.abs(outputs[name] - expected[name].numpy()).max() < 1e-4, name


def test_prn_onnx_matches_torch_for_any_number_of_people(tmp_path):
    torch.manual_seed(0)
    prn = PoseResidualNetwork("prn_tiny").eval()
    engine = load_engine(export_prn(prn, tmp_path, {"seed": 0}))
    assert engine.sidecar["crop"]["rows"] == 14 and engine.sidecar["training"]["seed"] == 0
    for people in (1, 5):
        crops = np.random.default_rng(people).random((people, 17, 14, 9)).astype(np.float32)
        with torch.no_grad():
            expected = prn(torch.from_numpy(crops)).numpy()
        assert np.abs(engine.run({"crops": crops})["probabilities"] - expected).max() < 1e-4


def test_shipped_prn_is_small_and_documented():
    assert PACKAGED_PRN.stat().st_size < 20e6
    sidecar = load_engine(PACKAGED_PRN).sidecar
    assert sidecar["variant"] == "prn_compact" and "mocap train prn" in sidecar["training"]["command"]
    assert sidecar["evaluation"]["prn"]["AP"] > sidecar["evaluation"]["nearest"]["AP"]


def test_backend_runs_on_exported_networks(tiny_network):
    _, path = tiny_network
    backend = MultiPoseNetBackend.from_store(root=path.parent.parent, max_people=5, person_score=0.0)
    image = np.random.default_rng(1).integers(0, 255, (240, 320, 3)).astype(np.uint8)
    result = backend(Frame(image, 0, 0.0))
    assert len(result.people) == 5                               # every box kept at threshold 0, NMS-limited
    lifted = 0
    for person in result.people:
        assert person.joint_set == "coco17" and person.joints2d.shape == (17, 2)
        if person.joints3d is not None:                          # the packaged 2D lifter's root-relative 3D
            assert person.joints3d.shape == (17, 3) and np.isfinite(person.joints3d).all()
            assert np.abs(person.joints3d).max() < 2.0
            lifted += 1
        else:                                                    # only people the lifter cannot take
            seen = np.where((person.confidence > 0)[:, None], person.joints2d, np.nan)
            stage1 = np.isfinite(map_joints(seen, COCO17.name, MPI3DHP17.name)).all(axis=1)
            assert not stage1[MPI3DHP17.index("neck")] or stage1.sum() < MIN_DETECTED_JOINTS
    assert lifted > 0 and backend.lifter is not None
    assert set(result.timings_ms) == {"preprocess", "network", "boxes", "prn", "stage2"}
    unlifted = MultiPoseNetBackend.from_store(root=path.parent.parent, max_people=5, person_score=0.0, lift=False)
    assert all(person.joints3d is None for person in unlifted(Frame(image, 0, 0.0)).people)


def test_run_refuses_without_image_network_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MOCAP_MODELS_DIR", str(tmp_path))
    status = main(["run", "--engine", "multiposenet", "--source", "video.mp4", "--observations",
                   str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1 and "mocap train multiposenet" in err and "Traceback" not in err
