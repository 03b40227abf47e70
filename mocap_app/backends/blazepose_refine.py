"""Mirror test-time averaging for the BlazePose landmark network.

The landmark network reads one rotated crop. :func:`flip_averaged_landmarks` also reads the crop
mirrored left to right, maps that pass's landmarks back (x mirrored in the crop, left and right
landmarks exchanged, world x negated) and averages the two passes. The network's errors on the two
views are partly independent (it has its own left/right habits, e.g. where it puts a shoulder on
a body seen from the side), so the average scatters less; it costs one more landmark-network run
per person and frame.

Every landmark is averaged, also where the two passes disagree (a leg each pass puts on another
side): keeping the first pass there instead did not help on the training renders.

On eight 4 s renders of training takes (side and front views) it lowered the error of BlazePose's
own 3D on 12 body joints from 115.9 to 111.8 mm (mean; worse on 2 of 8) and the random 2D error
on 6 of 8, while the median 2D error stayed the same (7.62 -> 7.68 px); one more landmark run per
person and frame took the whole single-person pipeline from 25-37 to 14-27 fps on 2 loaded cores.
"""

from __future__ import annotations

import numpy as np

from engines.blazepose import CropMeta, PoseLandmarker, PoseLandmarks
from engines.postprocessing import refine_from_heatmap, sigmoid
from engines.preprocessing import rotation_matrix, to_image

from ..skeletons import BLAZEPOSE33

#: Mirror of a landmark's normalised crop x: ``x -> MIRROR_OFFSET - x``. The crop's pixel ``i``
#: covers ``[i, i + 1)`` in the network's output scale, so the mirror of the continuous
#: coordinate is ``1 - x``.
MIRROR_OFFSET = 1.0


def _mirror_permutation(count: int) -> np.ndarray:
    """(count,) index of each landmark's mirror twin: body landmarks swap sides, the rest stay."""
    permutation = np.arange(count)
    body = BLAZEPOSE33.indices(list(BLAZEPOSE33.mirror))
    permutation[:len(body)] = body
    return permutation


def _output_names(landmarker: PoseLandmarker) -> list[str]:
    """The landmark model's outputs: landmarks, pose flag, segmentation, heatmap, world landmarks."""
    return [output["name"] for output in landmarker.engine.sidecar["outputs"]]


def _crop_landmarks(landmarker: PoseLandmarker, outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Heatmap-refined landmarks normalised to the crop (L, 2), visibility and presence (L,), world (L, 3)."""
    landmarks_name, _, _, heatmap_name, world_name = _output_names(landmarker)
    raw = outputs[landmarks_name].reshape(landmarker.num_landmarks, 5)
    refined = refine_from_heatmap(raw[:, :2] / landmarker.size, outputs[heatmap_name][0],
                                  int(landmarker.engine.sidecar["thresholds"]["heatmap_kernel"]),
                                  float(landmarker.engine.sidecar["thresholds"]["heatmap_min_confidence"]))
    world = outputs[world_name].reshape(landmarker.num_landmarks, 3).astype(np.float64)
    return refined, sigmoid(raw[:, 3]), sigmoid(raw[:, 4]), world, raw[:, 2]


def flip_averaged_landmarks(landmarker: PoseLandmarker, inputs: dict[str, np.ndarray],
                            outputs: dict[str, np.ndarray], meta: CropMeta) -> PoseLandmarks:
    """The landmark network's result averaged over the crop and its mirror image.

    Args:
        landmarker: the landmark wrapper whose engine produced ``outputs``.
        inputs: the network inputs of the crop (``landmarker.preprocess``), (1, S, S, 3).
        outputs: the engine's outputs on ``inputs``.
        meta: the crop's region and affine (from ``landmarker.preprocess``).

    Returns:
        The same fields :meth:`PoseLandmarker.postprocess` returns, from both passes; the score is
        the first pass's (the region either holds a person or not).
    """
    name = landmarker.input_name
    mirrored_outputs = landmarker.engine.run({name: np.ascontiguousarray(inputs[name][:, :, ::-1])})
    xy, visibility, presence, world, depth = _crop_landmarks(landmarker, outputs)
    m_xy, m_visibility, m_presence, m_world, m_depth = _crop_landmarks(landmarker, mirrored_outputs)
    permutation = _mirror_permutation(landmarker.num_landmarks)
    m_xy = m_xy[permutation]
    m_xy[:, 0] = MIRROR_OFFSET - m_xy[:, 0]
    m_world = m_world[permutation] * [-1.0, 1.0, 1.0]
    xy = 0.5 * (xy + m_xy)
    world = 0.5 * (world + m_world)
    depth = 0.5 * (depth + m_depth[permutation])
    visibility = 0.5 * (visibility + m_visibility[permutation])
    presence = 0.5 * (presence + m_presence[permutation])
    world[:, :2] = world[:, :2] @ rotation_matrix(meta.roi.rotation).T               # undo the crop's rotation
    score = float(outputs[_output_names(landmarker)[1]].reshape(-1)[0])
    return PoseLandmarks(score=score, xy=to_image(xy * landmarker.size, meta.matrix).astype(np.float32),
                         depth=(depth * meta.roi.size / landmarker.size).astype(np.float32),
                         visibility=visibility.astype(np.float32), presence=presence.astype(np.float32),
                         world=world.astype(np.float32), roi=meta.roi)

