"""The window's side of takes: naming a new journal, summarising a finished one, exporting it as BVH.

Thin glue over :mod:`mocap_app.takes` (journal, resampling, BVH per performer) and
:mod:`mocap_app.bvh` (length scale); nothing here touches motion data itself.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from mocap_app.bvh import read_bvh, write_bvh
from mocap_app.takes.journal import TakeData, read_journal
from mocap_app.takes.recorder import export_take

from .recording_panel import ExportRequest, TakeEntry

JOURNAL_SUFFIX = ".journal.jsonl"


def new_journal_path(folder: Path) -> Path:
    """A fresh ``take-YYYYmmdd-HHMMSS[-N].journal.jsonl`` in ``folder`` (never an existing file)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"take-{stamp}{JOURNAL_SUFFIX}"
    counter = 2
    while path.exists():
        path = folder / f"take-{stamp}-{counter}{JOURNAL_SUFFIX}"
        counter += 1
    return path


def take_name(journal: Path) -> str:
    """``take-20250101-120000`` for ``take-20250101-120000.journal.jsonl``."""
    return journal.name.removesuffix(JOURNAL_SUFFIX)


def take_entry(journal: Path, note: str = "") -> TakeEntry:
    """Summarise a closed journal for the takes list (reads it back, as an export would)."""
    data = read_journal(journal)
    recorded = {pid: p for pid, p in sorted(data.performers.items()) if p.times}
    times = [t for p in recorded.values() for t in p.times]
    frames = len({f for p in recorded.values() for f in p.frames})
    duration = (max(times) - min(times)) if times else 0.0
    return TakeEntry(journal, tuple(recorded), frames, duration, note)


def export(request: ExportRequest) -> list[Path]:
    """Write the BVH file(s) a request asks for into ``request.folder / <take name>/``.

    One performer gives ``performer_<id>.bvh``; all performers give one file each plus
    ``all_performers.bvh`` when there are several. ``request.scale`` multiplies every length of the
    centimetre take (0.01 writes metres).
    """
    data = read_journal(request.take.path)
    if request.performer_id is not None:
        data = TakeData(performers={request.performer_id: data.performers[request.performer_id]})
    combined = request.performer_id is None and sum(bool(p.times) for p in data.performers.values()) > 1
    folder = request.folder / take_name(request.take.path)
    written = export_take(data, folder, combined=combined, order=request.order)
    if request.scale != 1.0:
        for path in written:
            write_bvh(path, read_bvh(path), scale=request.scale)
    return written
