"""The stage around the performers: a textured floor, the walls of a room, and the lights.

Textures are procedural (checkerboard, tiles, planks, blotchy noise) so nothing has to be
downloaded, and every choice comes from a seeded random generator so a scene can be rendered again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEXTURE_SIZE = 256
TEXTURE_KINDS = ("checker", "tiles", "planks", "noise")
WALL_HEIGHT_M = 4.0
#: Default stage: the grey-and-white checkerboard floor of the issue's first renders.
DEFAULT_FLOOR_COLOURS = ((0.55, 0.55, 0.55), (0.85, 0.85, 0.85))
DEFAULT_WALL_COLOUR = (0.62, 0.68, 0.74)


@dataclass(frozen=True, eq=False)
class Light:
    """A directional light. ``direction``: (3,) unit vector from the scene towards the light (world)."""

    direction: np.ndarray
    intensity: float


@dataclass(frozen=True, eq=False)
class Stage:
    """Everything in a scene that is not a performer.

    Attributes:
        floor_texture: (S, S, 3) uint8 sRGB image repeated over the floor.
        floor_tile_m: floor length one texture repeat covers, metres.
        wall_texture: (S, S, 3) uint8 sRGB image repeated over the walls.
        wall_tile_m: wall length one texture repeat covers, metres.
        room_half_size: (2,) distance of the walls from the origin along x and z, metres.
        key: the light that casts shadows.
        fill: a second, shadowless light.
        ambient: ambient light level 0..1.
        sky: (3,) sRGB colour behind everything.
    """

    floor_texture: np.ndarray
    floor_tile_m: float
    wall_texture: np.ndarray
    wall_tile_m: float
    room_half_size: np.ndarray
    key: Light
    fill: Light
    ambient: float
    sky: tuple[float, float, float] = (0.75, 0.82, 0.90)

    def describe(self) -> dict:
        """A JSON-ready summary for the ground-truth scene file."""
        return {"floor_tile_m": self.floor_tile_m, "wall_tile_m": self.wall_tile_m,
                "room_half_size_m": self.room_half_size.tolist(), "ambient": self.ambient,
                "key_light": {"direction": self.key.direction.tolist(), "intensity": self.key.intensity},
                "fill_light": {"direction": self.fill.direction.tolist(), "intensity": self.fill.intensity}}


def _direction(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    az, el = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    return np.array([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)])


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def make_texture(kind: str, colour_a: tuple[float, float, float], colour_b: tuple[float, float, float],
                 rng: np.random.Generator, size: int = TEXTURE_SIZE) -> np.ndarray:
    """A tileable (size, size, 3) uint8 texture of one of :data:`TEXTURE_KINDS` in two colours."""
    a, b = np.array(colour_a), np.array(colour_b)
    yy, xx = np.mgrid[0:size, 0:size] / size
    if kind == "checker":
        mask = ((np.floor(xx * 2) + np.floor(yy * 2)) % 2).astype(np.float64)
    elif kind == "tiles":
        mask = ((np.abs((xx * 4) % 1 - 0.5) > 0.47) | (np.abs((yy * 4) % 1 - 0.5) > 0.47)).astype(np.float64)
    elif kind == "planks":
        row = np.floor(yy * 8)
        grain = 0.5 + 0.5 * np.sin(2 * np.pi * (xx * 3 + row * 0.37) + 4 * np.sin(2 * np.pi * yy * 8))
        mask = 0.6 * grain + 0.4 * ((yy * 8) % 1 > 0.94)
    elif kind == "noise":
        mask = np.zeros((size, size))
        for octave in (2, 4, 8, 16):
            phase = rng.uniform(0, 2 * np.pi, 4)
            mask += (np.sin(2 * np.pi * octave * xx + phase[0]) * np.sin(2 * np.pi * octave * yy + phase[1])
                     + np.sin(2 * np.pi * octave * (xx + yy) + phase[2])) / octave
        mask = (mask - mask.min()) / max(np.ptp(mask), 1e-9)
    else:
        raise ValueError(f"Unknown texture kind {kind!r}; valid: {', '.join(TEXTURE_KINDS)}")
    image = a + mask[..., None] * (b - a)
    image *= 1.0 + rng.normal(0.0, 0.02, (size, size, 1))  # a little grain
    return _to_uint8(image)


def default_stage(min_room_half_size: float = 9.0) -> Stage:
    """The plain stage: checkerboard floor, pale walls, a key light from the front left, a fill light.

    The walls stand at least ``min_room_half_size`` from the origin (keep it beyond the camera).
    """
    rng = np.random.default_rng(0)
    return Stage(
        floor_texture=make_texture("checker", *DEFAULT_FLOOR_COLOURS, rng), floor_tile_m=1.0,
        wall_texture=make_texture("noise", DEFAULT_WALL_COLOUR, tuple(0.9 * np.array(DEFAULT_WALL_COLOUR)), rng),
        wall_tile_m=3.0, room_half_size=np.full(2, max(9.0, min_room_half_size)),
        key=Light(_direction(35.0, 55.0), 0.75), fill=Light(_direction(-120.0, 30.0), 0.30), ambient=0.35)


def random_stage(rng: np.random.Generator, min_room_half_size: float = 7.0) -> Stage:
    """A random floor, walls and lighting.

    Args:
        rng: the random generator.
        min_room_half_size: the walls stand at least this far from the origin (keep it beyond the
            camera distance, or the camera sees the walls from outside).
    """
    def colour(low: float = 0.1, high: float = 0.95) -> tuple[float, float, float]:
        return tuple(float(c) for c in rng.uniform(low, high, 3))

    floor_a, wall_a = colour(), colour(0.3, 0.95)
    floor_b = tuple(float(c) for c in np.clip(np.array(floor_a) * rng.uniform(0.4, 1.6) + rng.normal(0, 0.1, 3), 0, 1))
    wall_b = tuple(float(c) for c in np.clip(np.array(wall_a) * rng.uniform(0.7, 1.2), 0, 1))
    return Stage(
        floor_texture=make_texture(TEXTURE_KINDS[rng.integers(len(TEXTURE_KINDS))], floor_a, floor_b, rng),
        floor_tile_m=float(rng.uniform(0.5, 3.0)),
        wall_texture=make_texture(TEXTURE_KINDS[rng.integers(len(TEXTURE_KINDS))], wall_a, wall_b, rng),
        wall_tile_m=float(rng.uniform(1.0, 5.0)),
        room_half_size=rng.uniform(min_room_half_size, min_room_half_size + 6.0, 2),
        key=Light(_direction(rng.uniform(0, 360), rng.uniform(30, 75)), float(rng.uniform(0.5, 0.9))),
        fill=Light(_direction(rng.uniform(0, 360), rng.uniform(10, 60)), float(rng.uniform(0.1, 0.4))),
        ambient=float(rng.uniform(0.2, 0.45)), sky=colour(0.4, 0.95))


def stage_quads(stage: Stage) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """The floor and four walls as (texture name, corners (4, 3) world, uv (4, 2), normal (3,)) quads.

    Corners go around the quad; uv are in texture repeats (position / tile size).
    """
    hx, hz = stage.room_half_size
    floor = np.array([[-hx, 0, -hz], [hx, 0, -hz], [hx, 0, hz], [-hx, 0, hz]], dtype=np.float64)
    quads = [("floor", floor, floor[:, [0, 2]] / stage.floor_tile_m, np.array([0.0, 1.0, 0.0]))]
    h = WALL_HEIGHT_M
    for corners, normal in (
        (np.array([[-hx, 0, -hz], [hx, 0, -hz], [hx, h, -hz], [-hx, h, -hz]]), (0.0, 0.0, 1.0)),
        (np.array([[-hx, 0, hz], [hx, 0, hz], [hx, h, hz], [-hx, h, hz]]), (0.0, 0.0, -1.0)),
        (np.array([[-hx, 0, -hz], [-hx, 0, hz], [-hx, h, hz], [-hx, h, -hz]]), (1.0, 0.0, 0.0)),
        (np.array([[hx, 0, -hz], [hx, 0, hz], [hx, h, hz], [hx, h, -hz]]), (-1.0, 0.0, 0.0)),
    ):
        horizontal = corners[:, [0, 2]] @ np.abs(np.array([normal[2], normal[0]]))
        along = np.stack([horizontal, corners[:, 1]], axis=1) / stage.wall_tile_m
        quads.append(("wall", corners.astype(np.float64), along, np.array(normal)))
    return quads
