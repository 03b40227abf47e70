"""Stage I backends: a frame in, everyone's 2D joints, confidences (and 3D where the network gives
it) out, as :class:`~mocap_app.types.FrameObservations`.

Every backend is callable on a :class:`~mocap_app.types.Frame`, has ``name``, ``provider`` (the
execution provider that actually runs it) and ``reset()``. :data:`BACKENDS` names them; backends
are imported only when chosen. ``blazepose`` is the default: its weights come from
``mocap models fetch``.
"""

from __future__ import annotations

import importlib
from typing import Any

#  name         module                               factory (classmethod building from the model store)
BACKENDS: dict[str, tuple[str, str]] = {
    "blazepose": ("mocap_app.backends.blazepose", "BlazePoseBackend.from_store"),
    "xnect": ("mocap_app.backends.xnect", "XNectBackend.from_store"),
    "multiposenet": ("mocap_app.backends.multiposenet", "MultiPoseNetBackend.from_store"),
}
DEFAULT_BACKEND = "blazepose"


def load_backend(name: str, **options: Any) -> Any:
    """Build backend ``name`` with its options (e.g. ``max_people``).

    Raises:
        ValueError: unknown name (the message lists the valid ones).
        WeightsMissingError: the backend's weights are not on this machine.
    """
    if name not in BACKENDS:
        raise ValueError(f"Unknown engine {name!r}; valid: {', '.join(sorted(BACKENDS))}.")
    module_name, factory = BACKENDS[name]
    module = importlib.import_module(module_name)
    target: Any = module
    for part in factory.split("."):
        target = getattr(target, part)
    return target(**options)
