"""Data that crosses a module boundary: frames, per-person observations, tracks and motion.

Units and axes follow :mod:`mocap_app.conventions`. Shapes use the project legend: ``P`` persons,
``J`` joints, ``F`` frames. Missing joints are NaN in fixed-size arrays, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One image from a source.

    Attributes:
        image: (H, W, 3) uint8, BGR (OpenCV order).
        index: frame number from the start of the source (0-based); gaps mean frames were dropped.
        timestamp: seconds since the source started (capture clock for cameras, media time for
            files and the nominal frame rate for image folders).
        source: human-readable name of the source (camera index, file path).
    """

    image: np.ndarray
    index: int
    timestamp: float
    source: str = ""

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class Observation:
    """What a Stage I backend (and Stage II) saw of one person in one frame.

    Attributes:
        joint_set: name of the joint set (a key of ``mocap_app.skeletons.SKELETONS``).
        joints2d: (J, 2) float32 pixel coordinates; NaN = not detected.
        confidence: (J,) float32 in [0, 1]; 0 where not detected.
        bbox: (4,) float32 ``x0, y0, x1, y1`` in pixels.
        joints3d: (J, 3) float32, metres, root-relative, camera axes (OpenCV), or ``None`` when the
            backend gives 2D only.
        track_id: persistent performer id once the identity tracker has assigned one, else ``None``.
        appearance: optional appearance descriptor (e.g. a normalised hue-saturation histogram).
    """

    joint_set: str
    joints2d: np.ndarray
    confidence: np.ndarray
    bbox: np.ndarray
    joints3d: np.ndarray | None = None
    track_id: int | None = None
    appearance: np.ndarray | None = None

    def __post_init__(self) -> None:
        count = self.joints2d.shape[0]
        if self.joints2d.shape != (count, 2) or self.confidence.shape != (count,):
            raise ValueError(f"Observation: joints2d {self.joints2d.shape} and confidence "
                             f"{self.confidence.shape} must be (J, 2) and (J,).")
        if self.joints3d is not None and self.joints3d.shape != (count, 3):
            raise ValueError(f"Observation: joints3d must be ({count}, 3), got {self.joints3d.shape}.")
        if np.shape(self.bbox) != (4,):
            raise ValueError(f"Observation: bbox must be (4,), got {np.shape(self.bbox)}.")


@dataclass(frozen=True, slots=True)
class FrameObservations:
    """Everyone seen in one frame: the unit the JSON Lines observation files hold one per line.

    Attributes:
        frame: frame index within the source.
        time: seconds since the source started.
        width: image width, pixels.
        height: image height, pixels.
        people: observations, one per detected person, in no particular order.
        timings_ms: per-stage wall time for this frame, milliseconds (``{"detector": 4.1, ...}``).
    """

    frame: int
    time: float
    width: int
    height: int
    people: tuple[Observation, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MotionFrame:
    """The fitted pose of one performer at one instant: what drives avatars and BVH files.

    Attributes:
        performer_id: persistent id from the identity tracker.
        frame: frame index within the source.
        time: seconds since the source started.
        root_position: (3,) float64 world position of the rig's root joint (Hips), metres.
        local_rotations: (J, 4) float64 unit quaternions (x, y, z, w), each joint's rotation
            relative to its parent and to the rig's T-pose rest pose; row 0 is the root's global
            orientation. ``J`` is the rig's joint count.
        world_positions: (J, 3) float64 world joint positions, metres (forward kinematics of the
            above with the performer's bone lengths).
    """

    performer_id: int
    frame: int
    time: float
    root_position: np.ndarray
    local_rotations: np.ndarray
    world_positions: np.ndarray


@dataclass(slots=True)
class PerformerTrack:
    """A persistent performer as the identity tracker and fitter know them.

    Mutable on purpose: the tracker updates it every frame; other stages only read it.

    Attributes:
        performer_id: id shown to the user and used in file names.
        first_seen: time the performer first appeared, seconds.
        last_seen: time of the latest observation, seconds.
        height_m: body height in metres (measured with a ground plane, otherwise assumed).
        bone_scale: (J, 3) or ``None``: per-joint rest offsets of this performer, metres, once
            measured from the first frames; ``None`` until then.
        last_observation: the most recent observation assigned to this performer.
    """

    performer_id: int
    first_seen: float
    last_seen: float
    height_m: float
    bone_scale: np.ndarray | None = None
    last_observation: Observation | None = None


@dataclass(frozen=True, slots=True)
class FrameResult:
    """Everything the pipeline made of one frame: what the GUI shows, the recorder keeps, the CLI writes.

    Attributes:
        frame: frame index within the source.
        time: seconds since the source started.
        observations: the Stage I/II observations of the frame (with track ids once tracked).
        motion: fitted poses, one per performer tracked in this frame (empty when none).
        timings_ms: wall time per stage, milliseconds, in pipeline order (``{"source": 1.2,
            "stage1": 31.0, "stage2": 0.4, "tracking": 0.2, "fitting": 6.8}``).
        provider: execution provider that actually ran the network (``"CPUExecutionProvider"``, ...).
        engine: Stage I engine name (``"blazepose"``, ``"xnect"``, ``"multiposenet"``).
    """

    frame: int
    time: float
    observations: FrameObservations
    motion: tuple[MotionFrame, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    provider: str = ""
    engine: str = ""
