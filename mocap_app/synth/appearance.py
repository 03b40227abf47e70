"""How a synthetic performer looks: clothing and skin colours, sleeve and trouser length, build, height.

Distinct skin, shirt, trouser and shoe colours matter to 2D detectors (a uniformly grey mannequin
loses detections and swaps left and right), so :func:`random_appearance` keeps the four clearly
apart; face detail and shading matter little and are kept simple.
"""

from __future__ import annotations

import colorsys
from dataclasses import asdict, dataclass

import numpy as np

#: Skin tones (sRGB 0..1), light to dark; a random performer picks one and jitters it.
SKIN_TONES = ((0.96, 0.80, 0.69), (0.91, 0.71, 0.58), (0.80, 0.58, 0.44), (0.63, 0.43, 0.30),
              (0.45, 0.30, 0.21), (0.30, 0.20, 0.14))
HAIR_COLOURS = ((0.08, 0.06, 0.05), (0.25, 0.15, 0.08), (0.45, 0.30, 0.15), (0.75, 0.62, 0.38),
                (0.55, 0.20, 0.08), (0.60, 0.60, 0.60))
#: Smallest RGB distance kept between skin, shirt, trousers and shoes of a random performer.
MIN_COLOUR_DISTANCE = 0.25
HEIGHT_RANGE_M = (1.55, 1.95)
GIRTH_RANGE = (0.85, 1.25)
#: Per-segment length factors a random build may apply (1 = the motion capture's own proportions).
PROPORTION_JITTER = 0.06


@dataclass(frozen=True)
class Appearance:
    """One performer's look, in sRGB colours 0..1 and metres.

    Attributes:
        skin, hair, shirt, trousers, shoes: (r, g, b) colours.
        long_sleeves: shirt covers the forearms.
        shorts: trousers stop above the knee (shins show skin).
        girth: radius factor of every body part (1 = average build).
        height_m: standing height (floor to head top) the motion is scaled to, metres.
        arm_scale, leg_scale, torso_scale: length factors of those segments (1 = as captured).
    """

    skin: tuple[float, float, float] = SKIN_TONES[1]
    hair: tuple[float, float, float] = HAIR_COLOURS[1]
    shirt: tuple[float, float, float] = (0.80, 0.10, 0.10)
    trousers: tuple[float, float, float] = (0.15, 0.25, 0.50)
    shoes: tuple[float, float, float] = (0.12, 0.12, 0.12)
    long_sleeves: bool = False
    shorts: bool = False
    girth: float = 1.0
    height_m: float = 1.73
    arm_scale: float = 1.0
    leg_scale: float = 1.0
    torso_scale: float = 1.0

    def to_json(self) -> dict:
        """A JSON-ready dict of every field (colours as lists)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}


#: Looks used when appearance is not randomised: the issue's validated red shirt and jeans first,
#: then clearly different outfits so several performers are told apart.
PRESET_LOOKS = (
    Appearance(),
    Appearance(skin=SKIN_TONES[3], hair=HAIR_COLOURS[0], shirt=(0.15, 0.45, 0.85), trousers=(0.76, 0.66, 0.45),
               shoes=(0.85, 0.85, 0.85), long_sleeves=True, height_m=1.65),
    Appearance(skin=SKIN_TONES[0], hair=HAIR_COLOURS[3], shirt=(0.95, 0.80, 0.15), trousers=(0.10, 0.10, 0.12),
               shoes=(0.60, 0.25, 0.10), height_m=1.80),
    Appearance(skin=SKIN_TONES[5], hair=HAIR_COLOURS[0], shirt=(0.20, 0.70, 0.30), trousers=(0.45, 0.45, 0.48),
               shoes=(0.95, 0.95, 0.95), long_sleeves=True, height_m=1.70),
)


def preset_look(index: int) -> Appearance:
    """The index-th preset look (cycling when there are more performers than presets)."""
    return PRESET_LOOKS[index % len(PRESET_LOOKS)]


def _random_colour(rng: np.random.Generator, avoid: list[np.ndarray]) -> tuple[float, float, float]:
    """A colour at least MIN_COLOUR_DISTANCE from every colour in ``avoid`` (best of 50 draws)."""
    best, best_distance = None, -1.0
    for _ in range(50):
        hue, sat, val = rng.random(), rng.uniform(0.15, 0.95), rng.uniform(0.12, 0.95)
        colour = np.array(colorsys.hsv_to_rgb(hue, sat, val))
        distance = min((float(np.linalg.norm(colour - other)) for other in avoid), default=1.0)
        if distance >= MIN_COLOUR_DISTANCE:
            return tuple(float(c) for c in colour)
        if distance > best_distance:
            best, best_distance = colour, distance
    return tuple(float(c) for c in best)


def random_appearance(rng: np.random.Generator, vary_proportions: bool = True) -> Appearance:
    """A random performer: skin tone, distinct clothing colours, sleeves, build and height.

    Args:
        rng: the random generator (seed it for reproducible renders).
        vary_proportions: also jitter arm, leg and torso lengths by up to PROPORTION_JITTER.
    """
    skin = np.clip(np.array(SKIN_TONES[rng.integers(len(SKIN_TONES))]) + rng.normal(0, 0.03, 3), 0, 1)
    hair = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]
    chosen = [skin]
    shirt = _random_colour(rng, chosen)
    chosen.append(np.array(shirt))
    trousers = _random_colour(rng, chosen)
    chosen.append(np.array(trousers))
    shoes = _random_colour(rng, chosen)

    def jitter() -> float:
        return float(1.0 + rng.uniform(-PROPORTION_JITTER, PROPORTION_JITTER)) if vary_proportions else 1.0

    return Appearance(
        skin=tuple(float(c) for c in skin), hair=hair, shirt=shirt, trousers=trousers, shoes=shoes,
        long_sleeves=bool(rng.random() < 0.5), shorts=bool(rng.random() < 0.2),
        girth=float(rng.uniform(*GIRTH_RANGE)), height_m=float(rng.uniform(*HEIGHT_RANGE_M)),
        arm_scale=jitter(), leg_scale=jitter(), torso_scale=jitter())
