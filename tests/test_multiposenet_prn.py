"""PRN pipeline side: synthetic crowds, crop rendering, assignment, OKS AP, and end-to-end decoding."""

from __future__ import annotations

import numpy as np
import pytest
from multiposenet_support import STICK

from engines.engine import load_engine
from engines.postprocessing import RetinaAnchorConfig, encode_deltas, retina_anchors
from mocap_app.backends.multiposenet import PACKAGED_PRN
from mocap_app.multiposenet.crowds import DetectorNoise, PosePool, detector_noise, random_scene
from mocap_app.multiposenet.decode import DecodeThresholds, cells_to_pixels, decode_people, person_boxes
from mocap_app.multiposenet.prn_eval import eval_scenes, evaluate_methods
from mocap_app.multiposenet.prn_io import Assignment, assign_max, assign_nearest, assign_prn, prn_inputs
from mocap_app.skeletons import COCO17
from mocap_app.skeletons.face import coco17_from_vnect21


@pytest.fixture(scope="module")
def pool(shared_data) -> PosePool:
    return PosePool.from_folder(shared_data / "mocap" / "eval", max_files=2)


@pytest.fixture(scope="module")
def prn():
    engine = load_engine(PACKAGED_PRN)
    grid = (int(engine.sidecar["crop"]["rows"]), int(engine.sidecar["crop"]["cols"]))
    return (lambda crops: engine.run({"crops": crops})["probabilities"]), grid


def test_face_points_sit_around_the_head_on_the_facing_side():
    from mocap_app.skeletons import VNECT21

    pose = np.zeros((21, 3))
    for name, xyz in {"neck": (0, 1.5, 0), "head": (0, 1.6, 0), "left_shoulder": (0.2, 1.45, 0),
                      "right_shoulder": (-0.2, 1.45, 0)}.items():
        pose[VNECT21.index(name)] = xyz
    coco = coco17_from_vnect21(pose)
    nose, left_ear, right_ear = (coco[COCO17.index(n)] for n in ("nose", "left_ear", "right_ear"))
    assert nose[2] > 0.05 and nose[1] > 1.6                   # in front (+z, the way the chest faces), above
    assert left_ear[0] > 0.05 > -0.05 > right_ear[0]
    assert np.allclose(coco[COCO17.index("left_shoulder")], (0.2, 1.45, 0))


def test_scenes_have_overlapping_people_and_labelled_keypoints(pool):
    rng = np.random.default_rng(0)
    scenes = [random_scene(rng, pool) for _ in range(20)]
    assert all(s.keypoints.shape[1:] == (17, 3) for s in scenes)
    overlapping = 0
    for scene in scenes:
        boxes = scene.boxes
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                low, high = np.maximum(boxes[a, :2], boxes[b, :2]), np.minimum(boxes[a, 2:], boxes[b, 2:])
                inter = np.clip(high - low, 0, None)
                overlapping += np.prod(inter) > 0
    assert overlapping >= 10
    peaks, owners, noisy = detector_noise(rng, scenes[0], DetectorNoise())
    assert len(peaks) == 17 and noisy.shape == scenes[0].boxes.shape
    assert all(len(p) == len(o) for p, o in zip(peaks, owners, strict=True))


def test_prn_inputs_draw_each_peak_in_its_cell():
    peaks = [np.zeros((0, 3)) for _ in range(17)]
    peaks[3] = np.array([[15.5, 46.0, 0.8]])                  # box 10..20 x 20..70 -> region 9..21 x 15..75
    crops = prn_inputs(peaks, np.array([[10.0, 20.0, 20.0, 70.0]]), (30, 12))
    assert crops.shape == (1, 17, 30, 12)
    row, col = np.unravel_index(crops[0, 3].argmax(), (30, 12))
    assert (row, col) == (15, 6) and crops[0, 3].max() == pytest.approx(0.8, rel=1e-5)   # the cell's centre
    assert crops[0, 3, 15, 7] == pytest.approx(0.8 * np.exp(-0.5), rel=1e-5)              # one cell over: sigma 1
    assert crops[0, [0, 1, 2, 4]].max() == 0.0


def test_oracle_assignment_scores_full_ap_and_baselines_less(pool):
    scenes = eval_scenes(pool, 30, seed=3)
    by_boxes = {id(scene.boxes): scene for scene in scenes}

    def oracle(peaks, boxes):
        scene = by_boxes[id(boxes)]
        labelled = scene.keypoints[..., 2] > 0
        xy = np.where(labelled[..., None], scene.keypoints[..., :2], np.nan)
        return Assignment(xy, labelled.astype(float), np.where(labelled, 0, -1))

    scores = {row.method: row.stats["AP"] for row in evaluate_methods(
        scenes, {"oracle": oracle, "max": assign_max, "nearest": assign_nearest})}
    assert scores["oracle"] > 99.0
    assert scores["max"] < scores["nearest"] < scores["oracle"]


def _three_people() -> tuple[np.ndarray, np.ndarray]:
    """(3, 17, 2) keypoints of three overlapping standing people, input pixels, and their (3, 4) boxes."""
    people, boxes = [], []
    for index, (x0, height) in enumerate(((30.0, 100.0), (55.0, 96.0), (80.0, 104.0))):
        width = 0.45 * height
        people.append(STICK * [width, height] + [x0, 14.0 + 2 * index])
        boxes.append([x0 - 0.1 * width, 4.0 + 2 * index, x0 + 1.1 * width, 18.0 + 2 * index + height])
    return np.array(people), np.array(boxes)


def test_shipped_prn_separates_three_overlapping_people(prn):
    function, grid = prn
    people, boxes = _three_people()
    stride, rows, cols = 4, 32, 48
    ys, xs = np.mgrid[0:rows, 0:cols]
    heatmaps = np.zeros((18, rows, cols), np.float32)
    for person in people:
        for k, (x, y) in enumerate(person):
            cx, cy = (x - 1.5) / stride, (y - 1.5) / stride
            heatmaps[k] = np.maximum(heatmaps[k], np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / 2.0))
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    observations = decode_people(heatmaps, boxes, identity, stride, function, grid, DecodeThresholds())
    assert len(observations) == 3
    correct = 0
    for person, observation in zip(people, observations, strict=True):
        error = np.linalg.norm(observation.joints2d - person, axis=1)
        correct += int((error < 2.5).sum())
        assert observation.joint_set == "coco17" and observation.bbox.shape == (4,)
    assert correct >= 0.9 * 3 * 17


def test_person_boxes_decodes_and_suppresses_duplicates():
    anchors = retina_anchors(128, 192, RetinaAnchorConfig())
    boxes = np.array([[10.0, 10.0, 50.0, 110.0], [70.0, 12.0, 110.0, 118.0], [130.0, 8.0, 170.0, 120.0]])
    logits = np.full(len(anchors), -10.0, np.float32)
    deltas = np.zeros((len(anchors), 4), np.float32)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    for index, box in enumerate(boxes):
        nearest = np.argsort(np.linalg.norm(centres - (box[:2] + box[2:]) / 2, axis=1))[:2]
        logits[nearest] = [4.0 - index, 3.0 - index]          # a duplicate just below each person
        deltas[nearest] = encode_deltas(np.repeat(box[None].astype(np.float32), 2, 0), anchors[nearest])
    found, scores = person_boxes(logits, deltas, anchors, DecodeThresholds())
    assert len(found) == 3 and np.all(np.diff(scores) < 0)
    assert np.allclose(found, boxes, atol=1e-3)


def test_cells_to_pixels_round_trip():
    assert cells_to_pixels(np.array([0.0, 10.0]), 4).tolist() == [1.5, 41.5]


def test_assign_prn_gives_each_peak_to_one_person(prn):
    function, grid = prn
    people, boxes = _three_people()
    peaks = [np.concatenate([people[:, k], np.ones((3, 1))], axis=1) for k in range(17)]
    result = assign_prn(peaks, boxes, function, grid)
    for k in range(17):
        used = result.peak_index[:, k][result.peak_index[:, k] >= 0]
        assert len(set(used.tolist())) == len(used)


def test_training_examples_target_only_the_boxed_person(tmp_path):
    import json

    from models.prn_train import coco_scenes, scene_examples

    people, boxes = _three_people()
    annotations = [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "num_keypoints": 17,
                    "keypoints": np.concatenate([p, np.full((17, 1), 2.0)], axis=1).ravel().tolist(),
                    "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]}
                   for i, (p, b) in enumerate(zip(people, boxes, strict=True))]
    path = tmp_path / "keypoints.json"
    path.write_text(json.dumps({"images": [{"id": 1, "width": 192, "height": 128}], "annotations": annotations}))
    [scene] = coco_scenes(path)
    assert scene.keypoints.shape == (3, 17, 3) and np.allclose(scene.boxes, boxes)
    noise = DetectorNoise(oks_scale=0.0, miss_rate=0.0, false_peaks=0.0, box_jitter=0.0)
    inputs, targets, mask = scene_examples(np.random.default_rng(0), scene, noise, (28, 18))
    assert inputs.shape == (3, 17, 28, 18) and targets.shape == (3, 17, 28 * 18)
    assert mask.all() and np.allclose(targets.sum(axis=2), 1.0, atol=1e-5)
    # The target's peak is the boxed person's own keypoint, while the input also shows the neighbours'.
    k = COCO17.index("left_wrist")
    own = np.unravel_index(targets[1, k].argmax(), (28, 18))
    size = 1.2 * (boxes[1, 2:] - boxes[1, :2])
    region = boxes[1, :2] - 0.1 / 1.2 * size                                   # the crop region's corner
    expected = ((people[1, k] - region) / size * [18, 28]).astype(int)[::-1]
    assert tuple(int(v) for v in own) == tuple(expected)
    cells = np.floor((people[[0, 2]] - region) / size * [18, 28]).astype(int)    # neighbours' keypoints, (2, 17, 2)
    inside = ((cells >= 0) & (cells < [18, 28])).all(axis=2)
    assert inside.sum() >= 5                                                     # the boxes really overlap
    for person, joint in zip(*np.nonzero(inside), strict=True):
        col, row = cells[person, joint]
        if np.abs(people[[0, 2]][person, joint] - people[1, joint]).max() > 8:    # not on the person's own joint
            assert inputs[1, joint, row, col] > 0.3 and targets[1, joint].reshape(28, 18)[row, col] < 1e-3
