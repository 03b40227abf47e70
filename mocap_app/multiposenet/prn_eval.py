"""PRN evaluation as in the paper's Table 3: ground-truth keypoints and boxes in, OKS-based AP out.

Held-out synthetic crowds (:mod:`.crowds`, from takes never used for training) give every
person's keypoints and box. All labelled keypoints of a scene become peaks of score 1 (listed in a
shuffled order, so no method profits from the order people were generated in); each assignment
method gives every ground-truth box its keypoints; pycocotools' ``COCOeval`` (``iouType
"keypoints"``, COCO's sigmas, maxDets 20) scores them. A keypoint a method leaves unassigned is
placed at its box centre (COCO results must give all 17). Person score: mean keypoint score.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import MocapError
from ..skeletons import COCO17
from .crowds import CrowdConfig, CrowdScene, PosePool, random_scene
from .prn_io import Assignment

AssignFunction = Callable[[list[np.ndarray], np.ndarray], Assignment]
#: COCOeval's summary rows for keypoints, in its order.
STAT_NAMES = ("AP", "AP50", "AP75", "APM", "APL", "AR", "AR50", "AR75", "ARM", "ARL")


@dataclass(frozen=True)
class PrnScores:
    """COCO keypoint metrics of one method, in percent (``stats`` keyed by :data:`STAT_NAMES`)."""

    method: str
    stats: dict[str, float]
    people: int


def eval_scenes(pool: PosePool, count: int, seed: int, config: CrowdConfig | None = None) -> list[CrowdScene]:
    """``count`` scenes with at least two people each, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    config = config or CrowdConfig()
    scenes = []
    while len(scenes) < count:
        scene = random_scene(rng, pool, config)
        if len(scene.boxes) >= 2:
            scenes.append(scene)
    return scenes


def ground_truth_peaks(scene: CrowdScene, rng: np.random.Generator) -> list[np.ndarray]:
    """17 arrays (M_k, 3): every labelled keypoint of the scene, score 1, in shuffled order."""
    peaks = []
    for k in range(COCO17.num_joints):
        labelled = scene.keypoints[:, k, 2] > 0
        xy = scene.keypoints[labelled, k, :2]
        peaks.append(np.concatenate([xy[rng.permutation(len(xy))], np.ones((len(xy), 1))], axis=1))
    return peaks


def _coco_ground_truth(scenes: list[CrowdScene]) -> dict:
    images, annotations = [], []
    for image_id, scene in enumerate(scenes, start=1):
        images.append({"id": image_id, "width": scene.width, "height": scene.height})
        for keypoints, box, area in zip(scene.keypoints, scene.boxes, scene.areas, strict=True):
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                "keypoints": [float(v) for v in keypoints.ravel()], "num_keypoints": int((keypoints[:, 2] > 0).sum()),
                "area": float(area), "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]),
                                               float(box[3] - box[1])]})
    return {"images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17.joints)}]}


def _results(scene_id: int, scene: CrowdScene, assignment: Assignment) -> list[dict]:
    centres = (scene.boxes[:, :2] + scene.boxes[:, 2:]) / 2.0
    results = []
    for person, score in enumerate(assignment.instance_scores()):
        xy = np.where(np.isnan(assignment.keypoints[person]), centres[person], assignment.keypoints[person])
        triplets = np.concatenate([xy, (assignment.peak_index[person] >= 0)[:, None].astype(float)], axis=1)
        results.append({"image_id": scene_id, "category_id": 1, "keypoints": [float(v) for v in triplets.ravel()],
                        "score": float(score)})
    return results


def coco_keypoint_ap(scenes: list[CrowdScene], results: list[dict]) -> dict[str, float]:
    """COCOeval keypoint summary (percent) of ``results`` (COCO results format) on ``scenes``."""
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ModuleNotFoundError as exc:
        raise MocapError("The PRN evaluation needs pycocotools: pip install -e .[dev]") from exc
    with contextlib.redirect_stdout(io.StringIO()):
        ground_truth = COCO()
        ground_truth.dataset = _coco_ground_truth(scenes)
        ground_truth.createIndex()
        detections = ground_truth.loadRes(results) if results else COCO()
        evaluator = COCOeval(ground_truth, detections, iouType="keypoints")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: 100.0 * float(value) for name, value in zip(STAT_NAMES, evaluator.stats, strict=True)}


def evaluate_methods(scenes: list[CrowdScene], methods: dict[str, AssignFunction], seed: int = 0) -> list[PrnScores]:
    """Score every assignment method on the same scenes and peaks."""
    people = int(sum(len(scene.boxes) for scene in scenes))
    rng = np.random.default_rng(seed)
    peaks = [ground_truth_peaks(scene, rng) for scene in scenes]
    scores = []
    for name, method in methods.items():
        results = []
        for scene_id, (scene, scene_peaks) in enumerate(zip(scenes, peaks, strict=True), start=1):
            results += _results(scene_id, scene, method(scene_peaks, scene.boxes))
        scores.append(PrnScores(name, coco_keypoint_ap(scenes, results), people))
    return scores


def format_table(scores: list[PrnScores]) -> str:
    """Markdown table: method, AP, AP50, AP75, APM, APL."""
    columns = STAT_NAMES[:5]
    lines = ["| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for row in scores:
        lines.append(f"| {row.method} | " + " | ".join(f"{row.stats[c]:.1f}" for c in columns) + " |")
    return "\n".join(lines)
