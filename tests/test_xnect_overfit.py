"""Stage I training is real: on a tiny synthetic set it overfits and the xnect backend then finds the people.

Three stick-figure images (1-2 people each, 192x128) in MuCo-3DHP style JSON; the small variant of
the same design trains 400 steps without augmentation; the total loss must fall by over 100x, and
the trained network, exported to ONNX and run through the real backend (ONNX Runtime, decoding,
shipped Stage II), must recover every person with all 17 joints within one map cell.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from xnect_support import write_synthetic_set  # noqa: E402

from mocap_app.backends.xnect import XNectBackend  # noqa: E402
from mocap_app.skeletons import VNECT21  # noqa: E402
from mocap_app.skeletons.xnect import STAGE1_SET  # noqa: E402
from mocap_app.types import Frame  # noqa: E402
from models.xnect import StageI  # noqa: E402
from models.xnect_data import load_coco, load_muco  # noqa: E402
from models.xnect_export import export_stage1  # noqa: E402
from models.xnect_train_stage1 import Stage1TrainConfig, train_stage1  # noqa: E402

SIZE = (192, 128)
LAYOUTS = [[(50, 64), (140, 66)], [(70, 60), (130, 70)], [(96, 64)]]


@pytest.mark.slow
def test_stage1_overfits_and_the_backend_recovers_the_training_poses(tmp_path) -> None:
    import cv2

    muco_json, coco_json, image_dir, people = write_synthetic_set(tmp_path / "data", LAYOUTS, SIZE, focal=120.0)
    coco = load_coco(coco_json, image_dir)
    assert len(coco) == 3 and coco[0].annotated.sum() == 15         # COCO-common subset: head top, spine masked
    samples = load_muco(muco_json, image_dir)
    torch.manual_seed(0)
    net = StageI("xnect_tiny")
    config = Stage1TrainConfig(variant="xnect_tiny", size=SIZE, steps=400, batch=3, lr=5e-3, augment=False, threads=2)
    history = train_stage1(net, samples, config)
    assert np.mean(history[-10:]) < np.mean(history[:3]) / 100.0

    store = tmp_path / "store"
    export_stage1(net.eval(), store / "xnect" / "stage1.onnx", SIZE)
    backend = XNectBackend.from_store(root=store)
    to_vnect = VNECT21.indices(list(STAGE1_SET.joints))
    for index, truth in enumerate(people):
        image = cv2.imread(str(image_dir / f"{index:03d}.png"))
        result = backend(Frame(image, index, 0.0))
        assert len(result.people) == len(truth)
        for person in truth:
            found = min(result.people, key=lambda o: np.nanmean(np.linalg.norm(o.joints2d[to_vnect] - person, axis=1)))
            error = np.linalg.norm(found.joints2d[to_vnect] - person, axis=1)
            assert np.isfinite(error).all() and error.max() < 8.0          # every joint, within one 8 px cell
            assert found.joints3d is not None and np.isfinite(found.joints3d).all()
