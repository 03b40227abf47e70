"""The two BlazePose networks as wrappers: ``preprocess`` -> ``Engine.run`` -> ``postprocess``.

:class:`PoseDetector` finds people in a whole frame (letterbox, SSD decoding, weighted NMS) and
turns each detection into a rotated square region of interest; :class:`PoseLandmarker` reads one
region (rotated crop) and returns 39 landmarks in image pixels, world landmarks in metres and the
region for the next frame. Everything a wrapper needs to know about its network (input size, value
range, channel order, anchors, thresholds, landmark layout) comes from the model's sidecar.

Shapes: ``L`` = 39 landmarks (33 body + 2 alignment + 4 others), ``N`` detections, ``K`` = 4
detector keypoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from mocap_app.errors import ModelContractError

from .engine import Engine
from .postprocessing import (
    AnchorConfig,
    alignment_roi,
    decode_boxes,
    refine_from_heatmap,
    sigmoid,
    ssd_anchors,
    weighted_nms,
)
from .preprocessing import SquareRoi, crop, letterbox, normalise, rotation_matrix, to_image

#: Regions smaller than this (pixels) are degenerate: the person is lost.
MIN_ROI_SIZE_PX = 8.0


@dataclass(frozen=True, slots=True)
class CropMeta:
    """What undoes one crop: the region and its (2, 3) image->input affine."""

    roi: SquareRoi
    matrix: np.ndarray


@dataclass(frozen=True, slots=True)
class CropLandmarks:
    """The landmark network's decoded output in its crop's own terms (before mapping to the image).

    Kept apart from :class:`PoseLandmarks` so that passes over the same crop (e.g. the crop and its
    mirror image) can be combined before the one mapping back.

    Attributes:
        score: pose presence probability of the region.
        xy: (L, 2) heatmap-refined landmarks, normalised to the crop (0..1).
        depth: (L,) relative depth in crop pixels.
        visibility, presence: (L,) probabilities.
        world: (L, 3) float64 metres in the crop's (rotated) axes.
    """

    score: float
    xy: np.ndarray
    depth: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray


@dataclass(frozen=True, slots=True)
class PoseDetections:
    """People found by the detector in one frame, best first.

    Attributes:
        boxes: (N, 4) float32 ``x0, y0, x1, y1`` of each detection box (BlazePose: the face), pixels.
        keypoints: (N, K, 2) float32 alignment keypoints in image pixels (0: mid-hip, 1: full-body
            scale and rotation point, 2: mid-shoulder, 3: upper-body point).
        scores: (N,) float32 probabilities.
    """

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])


@dataclass(frozen=True, slots=True)
class PoseLandmarks:
    """One person's landmark-network result, mapped back to the image.

    Attributes:
        score: pose presence probability for the region (below the threshold: nobody there).
        xy: (L, 2) float32 landmarks, image pixels.
        depth: (L,) float32 relative depth, pixels at the image scale (smaller = nearer).
        visibility: (L,) float32 probability each landmark is visible (not occluded).
        presence: (L,) float32 probability each landmark is inside the image.
        world: (L, 3) float32 metres, origin at the hips' centre, image axes (x right, y down,
            z away from the camera), i.e. OpenCV camera axes.
        roi: the region the landmarks were read from.
    """

    score: float
    xy: np.ndarray
    depth: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    roi: SquareRoi


def _input_spec(engine: Engine) -> tuple[str, int, float, float, bool, str]:
    spec = engine.sidecar["input"]
    shape = [int(v) for v in spec["shape"]]
    if len(shape) != 4 or shape[1] != shape[2] or spec.get("layout") != "NHWC":
        raise ModelContractError(f"{engine.path}: expected a square NHWC input, sidecar says {shape} "
                                 f"{spec.get('layout')}.")
    low, high = (float(v) for v in spec["range"])
    return spec["name"], shape[1], low, high, spec.get("channel_order") == "RGB", spec.get("border", "zero")


def _prepare(image: np.ndarray, rgb: bool, low: float, high: float) -> np.ndarray:
    """BGR uint8 crop -> (1, S, S, 3) float32 network input."""
    if rgb:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return normalise(image, low, high)[None]


class PoseDetector:
    """BlazePose person detector: letterboxed frame in, detections and regions out."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.input_name, self.size, self._low, self._high, self._rgb, _ = _input_spec(engine)
        sidecar = engine.sidecar
        self.anchors = ssd_anchors(AnchorConfig.from_sidecar(sidecar["anchors"], self.size))
        count = int(sidecar["outputs"][0]["shape"][1])
        if len(self.anchors) != count:
            raise ModelContractError(f"{engine.path}: {count} boxes but the sidecar's anchors give "
                                     f"{len(self.anchors)}. Run 'mocap models fetch --force'.")
        self.score_threshold = float(sidecar["thresholds"]["score"])
        self.score_clip = float(sidecar["thresholds"]["score_clip"])
        self.nms_iou = float(sidecar["thresholds"]["nms_iou"])
        roi = sidecar["roi"]
        self._roi_points = (int(roi["center_keypoint"]), int(roi["scale_keypoint"]))
        self._roi_angle = math.radians(float(roi["target_angle_deg"]))
        self._roi_scale = float(roi["scale"])
        self._box_output, self._score_output = (output["name"] for output in sidecar["outputs"])

    def preprocess(self, frame_bgr: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """(H, W, 3) BGR uint8 -> inputs and the (2, 3) image->input letterbox affine."""
        image, matrix = letterbox(frame_bgr, self.size)
        return {self.input_name: _prepare(image, self._rgb, self._low, self._high)}, matrix

    def preprocess_region(self, frame_bgr: np.ndarray, roi: SquareRoi) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Inputs for a square region of the frame (zero outside it) and its (2, 3) image->input affine.

        The detector sees people in the region at ``size / roi.size`` of their size instead of
        ``size / max(H, W)``: a closer look where the whole frame shows people small.
        """
        image, matrix = crop(frame_bgr, roi, self.size, border="zero")
        return {self.input_name: _prepare(image, self._rgb, self._low, self._high)}, matrix

    def postprocess(self, outputs: dict[str, np.ndarray], matrix: np.ndarray) -> PoseDetections:
        scores = sigmoid(np.clip(outputs[self._score_output][0, :, 0], -self.score_clip, self.score_clip))
        keep = scores >= self.score_threshold
        raw = outputs[self._box_output][0][keep]
        boxes, keypoints = decode_boxes(raw, self.anchors[keep], self.size)
        boxes, keypoints, scores = weighted_nms(boxes, keypoints, scores[keep], self.nms_iou)
        corners = to_image(boxes.reshape(-1, 2, 2), matrix).reshape(-1, 4)
        keypoints = to_image(keypoints, matrix).astype(np.float32)
        return PoseDetections(boxes=corners.astype(np.float32), keypoints=keypoints, scores=scores)

    def __call__(self, frame_bgr: np.ndarray) -> PoseDetections:
        inputs, matrix = self.preprocess(frame_bgr)
        return self.postprocess(self.engine.run(inputs), matrix)

    def roi(self, detections: PoseDetections, index: int) -> SquareRoi:
        """The landmark region of detection ``index`` (hip centre, body-circle radius, upright)."""
        keypoints = detections.keypoints[index]
        return alignment_roi(keypoints[self._roi_points[0]], keypoints[self._roi_points[1]], self._roi_angle,
                             self._roi_scale)


class PoseLandmarker:
    """BlazePose GHUM landmark network on one rotated region of interest."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.input_name, self.size, self._low, self._high, self._rgb, self._border = _input_spec(engine)
        sidecar = engine.sidecar
        self.num_landmarks = int(sidecar["num_landmarks"])
        self.num_body = int(sidecar["num_body_landmarks"])
        self.keypoint_schema = str(sidecar["keypoint_schema"])
        aux = sidecar["auxiliary_landmarks"]
        self._aux = (int(aux["center"]), int(aux["scale_rotation"]))
        thresholds = sidecar["thresholds"]
        self.presence_threshold = float(thresholds["pose_flag"])
        self._kernel = int(thresholds["heatmap_kernel"])
        self._min_heat = float(thresholds["heatmap_min_confidence"])
        self._roi_angle = math.radians(float(sidecar["roi"]["target_angle_deg"]))
        self._roi_scale = float(sidecar["roi"]["scale"])
        names = [output["name"] for output in sidecar["outputs"]]
        self._landmarks, self._flag, _, self._heatmap, self._world = names

    def preprocess(self, frame_bgr: np.ndarray, roi: SquareRoi) -> tuple[dict[str, np.ndarray], CropMeta]:
        image, matrix = crop(frame_bgr, roi, self.size, border=self._border)
        return {self.input_name: _prepare(image, self._rgb, self._low, self._high)}, CropMeta(roi, matrix)

    def decode(self, outputs: dict[str, np.ndarray]) -> CropLandmarks:
        """The network's outputs for one crop, decoded in the crop's terms."""
        raw = outputs[self._landmarks].reshape(self.num_landmarks, 5)        # (1, L*5) -> (L, [x y z vis pres])
        refined = refine_from_heatmap(raw[:, :2] / self.size, outputs[self._heatmap][0], self._kernel, self._min_heat)
        world = outputs[self._world].reshape(self.num_landmarks, 3).astype(np.float64)   # (1, L*3) -> (L, 3)
        return CropLandmarks(score=float(outputs[self._flag].reshape(-1)[0]), xy=refined, depth=raw[:, 2],
                             visibility=sigmoid(raw[:, 3]), presence=sigmoid(raw[:, 4]), world=world)

    def in_image(self, landmarks: CropLandmarks, meta: CropMeta) -> PoseLandmarks:
        """Decoded crop landmarks mapped back to the image (pixels, world axes unrotated)."""
        world = landmarks.world.copy()
        world[:, :2] = world[:, :2] @ rotation_matrix(meta.roi.rotation).T               # undo the crop's rotation
        xy = to_image(landmarks.xy * self.size, meta.matrix).astype(np.float32)
        return PoseLandmarks(score=landmarks.score, xy=xy,
                             depth=(landmarks.depth * meta.roi.size / self.size).astype(np.float32),
                             visibility=landmarks.visibility.astype(np.float32),
                             presence=landmarks.presence.astype(np.float32),
                             world=world.astype(np.float32), roi=meta.roi)

    def postprocess(self, outputs: dict[str, np.ndarray], meta: CropMeta) -> PoseLandmarks:
        return self.in_image(self.decode(outputs), meta)

    def __call__(self, frame_bgr: np.ndarray, roi: SquareRoi) -> PoseLandmarks:
        inputs, meta = self.preprocess(frame_bgr, roi)
        return self.postprocess(self.engine.run(inputs), meta)

    def alignment_points(self, landmarks: PoseLandmarks) -> np.ndarray:
        """(2, 2) the two alignment landmarks (body centre, scale and rotation point), pixels."""
        return landmarks.xy[list(self._aux)].astype(np.float64)

    def next_roi(self, landmarks: PoseLandmarks, points: np.ndarray | None = None) -> SquareRoi | None:
        """Region for the next frame from the two alignment landmarks, ``None`` when degenerate.

        ``points`` replaces the landmarks' own alignment points (e.g. temporally smoothed ones).
        """
        center, scale_point = self.alignment_points(landmarks) if points is None else points
        roi = alignment_roi(center, scale_point, self._roi_angle, self._roi_scale)
        return roi if np.isfinite(roi.size) and roi.size >= MIN_ROI_SIZE_PX else None
