"""A procedural human body built around joint positions: tapered limbs, ellipsoid torso and head, a face.

The body is driven by the world positions of the application's rig (:data:`~mocap_app.skeletons.RIG`)
plus five tips (head top, finger tips, toe tips), so any motion that gives those positions (a BVH
file through forward kinematics, the parametric demo motion) can be rendered, and the joints the
ground truth reports are exactly the joints the rendered figure bends at. BlazePose-style surface
landmarks (nose, eyes, ears, mouth, heels, finger points) are points on the rendered surfaces.

Every size is for a 1.73 m person and scales with :attr:`Appearance.height_m`; limb and torso radii
also scale with :attr:`Appearance.girth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ..skeletons import BLAZEPOSE33, RIG
from .appearance import Appearance

#: Tips below the rig's end-site joints, appended to the rig joints in a driving pose.
TIP_PARENTS = {"HeadTop": "Head", "LeftHandTip": "LeftHand", "RightHandTip": "RightHand",
               "LeftToeTip": "LeftToeBase", "RightToeTip": "RightToeBase"}
#: Names of the rows of a driving pose: the 22 rig joints, then the five tips.
DRIVER_JOINTS = RIG.joints + tuple(TIP_PARENTS)
_IDX = {name: index for index, name in enumerate(DRIVER_JOINTS)}
REFERENCE_STATURE_M = 1.73

_SIDES = ("Left", "Right")
_SPHERE_LAT, _SPHERE_LON, _CYLINDER_LON = 10, 16, 14

# Tapered limbs: (from, to, radius at from, radius at to, material); "{s}" is Left or Right.
_LIMBS = (
    ("{s}UpLeg", "{s}Leg", 0.075, 0.052, "trousers"),
    ("{s}Leg", "{s}Foot", 0.050, 0.038, "shins"),
    ("{s}Foot", "{s}ToeBase", 0.040, 0.036, "shoes"),
    ("{s}ToeBase", "{s}ToeTip", 0.036, 0.028, "shoes"),
    ("{s}Shoulder", "{s}Arm", 0.060, 0.050, "shirt"),
    ("{s}Arm", "{s}ForeArm", 0.047, 0.038, "shirt"),
    ("{s}ForeArm", "{s}Hand", 0.036, 0.027, "forearms"),
)
# The neck: about 36 cm round (11.5 cm across) in adults.
_CENTRAL_LIMBS = (("Spine2", "Neck", 0.060, 0.058, "skin"), ("Neck", "Head", 0.058, 0.056, "skin"))
# Joint balls that round off the limbs: (joint, radius, material).
_BALLS = (("{s}UpLeg", 0.075, "trousers"), ("{s}Leg", 0.052, "trousers"), ("{s}Foot", 0.040, "shins"),
          ("{s}Arm", 0.050, "shirt"), ("{s}ForeArm", 0.038, "forearms"), ("{s}Hand", 0.027, "skin"),
          ("{s}ToeTip", 0.028, "shoes"))
# Torso ellipsoids, placed on the line from the hip joints' midpoint (0) to the shoulder joints'
# midpoint (1), the joints the truth reports, so that every capture skeleton gets the same body
# around them (where skeletons put their root, spine and neck joints differs by several cm):
# (name, frame, centre along that line, radii along the frame's x (left) and z (forward), metres,
# and along y (up) as a fraction of the line's length, 0.455 m for a 1.73 m adult).
# Pelvis: from the buttocks' lower edge, about 10 cm below the hip joints, to the iliac crests,
# about 12 cm above them, so the hip joints sit at its middle height. Abdomen: from the pelvis
# to the lower ribs. Chest (rib cage): from the lower ribs, about 24 cm below the shoulder
# joints, to the top of the sternum, about 4.5 cm above them.
_TORSO = (("pelvis", "pelvis", 0.02, (0.160, 0.24, 0.115)), ("abdomen", "torso", 0.40, (0.140, 0.30, 0.100)),
          ("chest", "chest", 0.785, (0.170, 0.315, 0.110)))
# Trapezius: the slope of the shoulders from the base of the neck (its surface about 9.5 cm above
# the shoulder joints' midpoint, at the back of the neck) down to the acromion (about 4.5 cm
# above the shoulder joint, 2.5 cm inside it): (point, offset in the chest frame from the
# shoulder joints' midpoint or from the shoulder joint, metres, radius, metres).
_TRAPEZIUS_NECK = ((0.0, 0.060, -0.020), 0.035)
_TRAPEZIUS_ACROMION = ((-0.025, 0.020, 0.0), 0.025)
# The head of a 1.73 m adult in the head frame (x left, y from the Head joint towards HeadTop, z
# forward), metres from the vertex: the rig's HeadTop is the top of the skull (stature is floor to
# head top), which stands above the ear canals, so z = 0 is the tragion's plane. Adult head and face
# anthropometry: 23 cm from the vertex to the chin (menton), 15.5 cm wide, 19.5 cm long (glabella
# to the back of the skull); eyes at half the head's height, 11.5 cm below the vertex and 2 cm behind
# the brow; tragion 13 cm below the vertex; the nose's tip 15 cm below it and 2-2.5 cm in front of
# the face; the mouth 18.5 cm below it; the ear 6.2 cm long, from brow level to the base of the
# nose, just behind the tragion. (centre, radii) of the skull, of the face's lower half (cheeks, jaw
# and chin), of the nose and of the left ear (the right one mirrored).
_CRANIUM = ((0.0, -0.085, 0.0), (0.0775, 0.085, 0.098))
_JAW = ((0.0, -0.167, 0.030), (0.060, 0.064, 0.065))
_NOSE = ((0.0, -0.146, 0.097), (0.014, 0.022, 0.017))
_EAR = ((0.069, -0.131, -0.010), (0.009, 0.031, 0.017))
# Hair: a cap over the skull, its centre moved up and back from the skull's (metres), radii scaled,
# so that its edge (where it meets the skull) runs from the hairline 5 cm above the brow over the
# temples (10 cm below the vertex) to the nape (14 cm below it), leaving the forehead and ears bare.
_HAIR = ((0.0, 0.010, -0.010), (1.03, 1.0, 1.06))
# Eye points on the skull's front, (x, y) metres: inner corner (32 mm apart), pupil (64 mm apart),
# outer corner (98 mm apart); the dark eyes are centred on the pupils.
_EYE_POINTS = (("eye_inner", 0.016, -0.115), ("eye", 0.032, -0.115), ("eye_outer", 0.049, -0.113))
_EYE_RADII = (0.013, 0.008, 0.008)
# Mouth corners on the jaw's front, (x, y) metres (56 mm apart), and the lips' radii.
_MOUTH_CORNER = (0.028, -0.185)
_LIPS_RADII = (0.025, 0.006, 0.008)
_HAND_WIDTH = 0.042
# BlazePose hand landmarks inside the hand ellipsoid: (name, along its length, across its width).
_HAND_POINTS = (("index", 0.6, 0.6), ("pinky", 0.5, -0.6), ("thumb", -0.3, 0.8))
_FIXED_COLOURS = {"eyes": (0.05, 0.05, 0.07), "mouth": (0.55, 0.15, 0.15)}


@dataclass(frozen=True, eq=False)
class BodyMesh:
    """Triangles of one performer in one frame, world metres.

    Attributes:
        positions: (V, 3) float32 vertex positions.
        normals: (V, 3) float32 unit normals.
        colours: (V, 3) float32 sRGB albedo 0..1.
        faces: (T, 3) int32 vertex indices.
    """

    positions: np.ndarray
    normals: np.ndarray
    colours: np.ndarray
    faces: np.ndarray


@cache
def _unit_sphere() -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) and faces (T, 3) of a unit latitude-longitude sphere."""
    lat = np.linspace(0.0, np.pi, _SPHERE_LAT + 1)
    lon = np.linspace(0.0, 2 * np.pi, _SPHERE_LON + 1)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    verts = np.stack([np.sin(la) * np.cos(lo), np.cos(la), np.sin(la) * np.sin(lo)], axis=-1).reshape(-1, 3)
    return verts, _grid_faces(_SPHERE_LAT + 1, _SPHERE_LON + 1)


@cache
def _unit_ring() -> np.ndarray:
    """(L+1, 2) cos/sin around a cylinder."""
    angle = np.linspace(0.0, 2 * np.pi, _CYLINDER_LON + 1)
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def _grid_faces(rows: int, cols: int) -> np.ndarray:
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    b, d = a + cols, a + 1
    return np.concatenate([np.stack([a, b, d], 1), np.stack([d, b, b + 1], 1)]).astype(np.int32)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-9)


def _frame(x_hint: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(3, 3) orthonormal frame with columns (left, up, forward) from a left hint and an up vector."""
    y = _unit(up)
    x = x_hint - np.dot(x_hint, y) * y
    if np.linalg.norm(x) < 1e-6:
        x = np.cross(y, np.array([0.0, 0.0, 1.0])) if abs(y[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = _unit(x)
    return np.stack([x, y, np.cross(x, y)], axis=1)


def body_frames(pose: np.ndarray) -> dict[str, np.ndarray]:
    """Orientation frames (3, 3) of the pelvis, torso, chest and head from a driving pose (27, 3)."""
    p = {name: pose[index] for name, index in _IDX.items()}
    hips_lr = p["LeftUpLeg"] - p["RightUpLeg"]
    shoulders_lr = p["LeftArm"] - p["RightArm"]
    chest = _frame(shoulders_lr, p["Neck"] - p["Spine1"])
    return {
        "pelvis": _frame(hips_lr, p["Spine"] - p["Hips"]),
        "torso": _frame(hips_lr + shoulders_lr, p["Spine2"] - p["Spine"]),
        "chest": chest,
        "head": _frame(chest[:, 0], p["HeadTop"] - p["Head"]),
    }


def _ellipsoid_surface(centre: np.ndarray, frame: np.ndarray, radii: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Point where a ray from the ellipsoid's centre along ``direction`` (frame coords) meets its surface."""
    d = np.asarray(direction, dtype=np.float64)
    local = d / np.sqrt(np.sum((d / radii) ** 2))
    return centre + frame @ local


class _Builder:
    """Collects ellipsoids and tapered cylinders, then tessellates them in one go."""

    def __init__(self, colours: dict[str, tuple[float, float, float]]) -> None:
        self.colours = colours
        self.ellipsoids: list[tuple[np.ndarray, np.ndarray, np.ndarray, str]] = []
        self.cylinders: list[tuple[np.ndarray, np.ndarray, float, float, str]] = []

    def ellipsoid(self, centre: np.ndarray, frame: np.ndarray, radii: np.ndarray, material: str) -> None:
        self.ellipsoids.append((centre, frame, np.asarray(radii, dtype=np.float64), material))

    def ball(self, centre: np.ndarray, radius: float, material: str) -> None:
        self.ellipsoid(centre, np.eye(3), np.full(3, radius), material)

    def cylinder(self, a: np.ndarray, b: np.ndarray, ra: float, rb: float, material: str) -> None:
        self.cylinders.append((a, b, ra, rb, material))

    def mesh(self) -> BodyMesh:
        unit, sphere_faces = _unit_sphere()
        parts_pos, parts_nrm, parts_col, parts_face = [], [], [], []
        offset = 0
        for centre, frame, radii, material in self.ellipsoids:
            parts_pos.append(centre + (unit * radii) @ frame.T)
            parts_nrm.append(_unit((unit / radii) @ frame.T))
            parts_col.append(np.broadcast_to(self.colours[material], unit.shape))
            parts_face.append(sphere_faces + offset)
            offset += len(unit)
        ring = _unit_ring()
        cyl_faces = _grid_faces(2, len(ring))
        for a, b, ra, rb, material in self.cylinders:
            axis = b - a
            length = float(np.linalg.norm(axis))
            if length < 1e-6:
                continue
            frame = _frame(np.cross(axis, [0.0, 0.0, 1.0]) + np.cross(axis, [1.0, 0.0, 0.0]) * 1e-3, axis)
            radial = ring[:, :1] * frame[:, 0] + ring[:, 1:] * frame[:, 2]  # (L+1, 3)
            pos = np.concatenate([a + ra * radial, b + rb * radial])
            slope = (ra - rb) / length
            nrm = _unit(np.concatenate([radial, radial]) + slope * frame[:, 1])
            parts_pos.append(pos)
            parts_nrm.append(nrm)
            parts_col.append(np.broadcast_to(self.colours[material], pos.shape))
            parts_face.append(cyl_faces + offset)
            offset += len(pos)
        return BodyMesh(positions=np.concatenate(parts_pos).astype(np.float32),
                        normals=np.concatenate(parts_nrm).astype(np.float32),
                        colours=np.concatenate(parts_col).astype(np.float32),
                        faces=np.concatenate(parts_face).astype(np.int32))


def prop_mesh(centre: np.ndarray, radii: np.ndarray, colour: tuple[float, float, float], pillar: bool) -> BodyMesh:
    """A scene prop that can hide performers: a pillar standing on the floor or a floating ellipsoid.

    Args:
        centre: (3,) world position, metres (a pillar's foot for ``pillar``).
        radii: (3,) half-sizes along world x, y, z, metres (a pillar: radius, height, unused).
        colour: sRGB albedo.
        pillar: a vertical cylinder from the floor instead of an ellipsoid.
    """
    out = _Builder({"prop": colour})
    if pillar:
        top = centre + np.array([0.0, radii[1], 0.0])
        out.cylinder(centre, top, radii[0], radii[0], "prop")
        out.ball(top, radii[0], "prop")
    else:
        out.ellipsoid(centre, np.eye(3), radii, "prop")
    return out.mesh()


def _materials(look: Appearance) -> dict[str, tuple[float, float, float]]:
    return {"skin": look.skin, "hair": look.hair, "shirt": look.shirt, "trousers": look.trousers,
            "shoes": look.shoes, "shins": look.skin if look.shorts else look.trousers,
            "forearms": look.shirt if look.long_sleeves else look.skin, **_FIXED_COLOURS}


def _front_of(ellipsoid: tuple[tuple[float, float, float], tuple[float, float, float]], x: float,
              y: float) -> np.ndarray:
    """(3,) head-frame point on the front of an ellipsoid of the head, at ``x``, ``y`` metres."""
    (cx, cy, cz), (rx, ry, rz) = ellipsoid
    return np.array([x, y, cz + rz * np.sqrt(max(0.0, 1.0 - ((x - cx) / rx) ** 2 - ((y - cy) / ry) ** 2))])


class _Head:
    """The head's placement in one frame: head-frame points (metres, 1.73 m adult) to world points."""

    def __init__(self, pose: np.ndarray, frames: dict[str, np.ndarray], scale: float) -> None:
        self.vertex, self.frame, self.scale = pose[_IDX["HeadTop"]], frames["head"], scale

    def world(self, local: np.ndarray) -> np.ndarray:
        return self.vertex + self.frame @ (np.asarray(local, dtype=np.float64) * self.scale)

    def landmarks(self) -> dict[str, np.ndarray]:
        """World positions of the 11 BlazePose face landmarks: points on the rendered head."""
        (nose_centre, nose_radii), (ear_centre, ear_radii) = _NOSE, _EAR
        out = {"nose": self.world(np.add(nose_centre, (0.0, 0.0, nose_radii[2])))}
        for side, sign in (("left", 1.0), ("right", -1.0)):
            for name, x, y in _EYE_POINTS:
                out[f"{side}_{name}"] = self.world(_front_of(_CRANIUM, sign * x, y))
            # The middle of the ear's outer face.
            out[f"{side}_ear"] = self.world(np.multiply(ear_centre, (sign, 1.0, 1.0)) + (sign * ear_radii[0], 0.0, 0.0))
            out[f"mouth_{side}"] = self.world(_front_of(_JAW, sign * _MOUTH_CORNER[0], _MOUTH_CORNER[1]))
        return out

    def build(self, out: _Builder) -> None:
        """Add the skull, hair, face, nose, ears, eyes and lips to ``out``."""
        def part(centre: tuple[float, float, float], radii: tuple[float, float, float], material: str) -> None:
            out.ellipsoid(self.world(centre), self.frame, np.asarray(radii) * self.scale, material)

        (skull_centre, skull_radii), (hair_shift, hair_factors) = _CRANIUM, _HAIR
        part(skull_centre, skull_radii, "skin")
        part(tuple(np.add(skull_centre, hair_shift)), tuple(np.multiply(skull_radii, hair_factors)), "hair")
        part(*_JAW, "skin")
        part(*_NOSE, "skin")
        ear_centre, ear_radii = _EAR
        for sign in (1.0, -1.0):
            part((sign * ear_centre[0], ear_centre[1], ear_centre[2]), ear_radii, "skin")
            part(tuple(_front_of(_CRANIUM, sign * _EYE_POINTS[1][1], _EYE_POINTS[1][2])), _EYE_RADII, "eyes")
        part(tuple(_front_of(_JAW, 0.0, _MOUTH_CORNER[1])), _LIPS_RADII, "mouth")


def build_body(pose: np.ndarray, look: Appearance) -> BodyMesh:
    """Tessellate one performer.

    Args:
        pose: (27, 3) world positions of :data:`DRIVER_JOINTS`, metres, floor at y = 0.
        look: clothing, skin and build.

    Returns:
        The triangles of the figure (a few thousand vertices).
    """
    scale = look.height_m / REFERENCE_STATURE_M
    girth = scale * look.girth
    frames = body_frames(pose)
    out = _Builder(_materials(look))
    p = {name: pose[index] for name, index in _IDX.items()}
    for side in _SIDES:
        for a, b, ra, rb, material in _LIMBS:
            out.cylinder(p[a.format(s=side)], p[b.format(s=side)], ra * girth, rb * girth, material)
        for joint, radius, material in _BALLS:
            out.ball(p[joint.format(s=side)], radius * girth, material)
        hand, tip = p[f"{side}Hand"], p[f"{side}HandTip"]
        hand_frame = _frame(frames["chest"][:, 2], tip - hand)
        out.ellipsoid(0.5 * (hand + tip), hand_frame,
                      np.array([0.022 * girth, 0.5 * np.linalg.norm(tip - hand), _HAND_WIDTH * girth]), "skin")
        out.ellipsoid(*_heel(p, side, scale), "shoes")
    for a, b, ra, rb, material in _CENTRAL_LIMBS:
        out.cylinder(p[a], p[b], ra * girth, rb * girth, material)
    hip_joints = 0.5 * (p["LeftUpLeg"] + p["RightUpLeg"])
    shoulder_joints = 0.5 * (p["LeftArm"] + p["RightArm"])
    trunk = float(np.linalg.norm(shoulder_joints - hip_joints))
    for name, frame_name, along, (rx, ry, rz) in _TORSO:
        out.ellipsoid(hip_joints + along * (shoulder_joints - hip_joints), frames[frame_name],
                      np.array([rx * girth, ry * trunk, rz * girth]), "trousers" if name == "pelvis" else "shirt")
    _trapezius(out, p, frames["chest"], shoulder_joints, scale, girth)
    _Head(pose, frames, scale).build(out)
    return out.mesh()


def _trapezius(out: _Builder, p: dict[str, np.ndarray], chest: np.ndarray, shoulder_joints: np.ndarray,
               scale: float, girth: float) -> None:
    """The shoulders' slope from the back of the neck's base to each acromion (see :data:`_TRAPEZIUS_NECK`)."""
    (neck_offset, neck_radius), (acromion_offset, acromion_radius) = _TRAPEZIUS_NECK, _TRAPEZIUS_ACROMION
    neck = shoulder_joints + chest @ (np.array(neck_offset) * scale)
    out.ball(neck, neck_radius * girth, "shirt")
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        acromion = p[f"{side}Arm"] + chest @ (np.array(acromion_offset) * [sign, 1.0, 1.0] * scale)
        out.cylinder(neck, acromion, neck_radius * girth, acromion_radius * girth, "shirt")
        out.ball(acromion, acromion_radius * girth, "shirt")


def _heel(p: dict[str, np.ndarray], side: str, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, frame and radii of a shoe's heel block below the ankle."""
    ankle, toe = p[f"{side}Foot"], p[f"{side}ToeTip"]
    shin = _unit(p[f"{side}Leg"] - ankle)
    frame = _frame(np.cross(shin, toe - ankle), shin)
    centre = ankle - shin * 0.035 * scale - frame[:, 2] * 0.015 * scale
    return centre, frame, np.array([0.042, 0.045, 0.060]) * scale


def surface_landmarks(pose: np.ndarray, look: Appearance) -> np.ndarray:
    """BlazePose-33 landmarks on the rendered figure, world metres.

    Body landmarks (shoulders, elbows, wrists, hips, knees, ankles) are the rig joints; face, hand
    and foot landmarks are points on the rendered head, hands and shoes.

    Args:
        pose: (27, 3) driving pose, world metres.
        look: the appearance the figure was rendered with (its build moves surface points).

    Returns:
        (33, 3) float64 in :data:`~mocap_app.skeletons.BLAZEPOSE33` order.
    """
    scale = look.height_m / REFERENCE_STATURE_M
    girth = scale * look.girth
    frames = body_frames(pose)
    p = {name: pose[index] for name, index in _IDX.items()}
    out = _Head(pose, frames, scale).landmarks()
    for side in ("left", "right"):
        cap = side.capitalize()
        for joint, name in (("Arm", "shoulder"), ("ForeArm", "elbow"), ("Hand", "wrist"),
                            ("UpLeg", "hip"), ("Leg", "knee"), ("Foot", "ankle")):
            out[f"{side}_{name}"] = p[f"{cap}{joint}"]
        hand, tip = p[f"{cap}Hand"], p[f"{cap}HandTip"]
        hand_frame = _frame(frames["chest"][:, 2], tip - hand)
        for name, along, across in _HAND_POINTS:
            # A point of the hand ellipsoid: ``along`` its length (-1..1), ``across`` its width (-1..1).
            width = _HAND_WIDTH * girth * np.sqrt(1.0 - along**2)
            out[f"{side}_{name}"] = 0.5 * (hand + tip) + 0.5 * along * (tip - hand) + across * width * hand_frame[:, 2]
        heel_centre, heel_frame, heel_radii = _heel(p, cap, scale)
        out[f"{side}_heel"] = _ellipsoid_surface(heel_centre, heel_frame, heel_radii, np.array([0.0, -0.6, -1.0]))
        out[f"{side}_foot_index"] = p[f"{cap}ToeTip"]
    return np.stack([out[name] for name in BLAZEPOSE33.joints])
