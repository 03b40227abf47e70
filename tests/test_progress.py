"""The progress bar writes to the stderr of the moment it starts, and prints plain lines off a terminal."""

from __future__ import annotations

import io

from mocap_app.progress import Progress, progress


def test_plain_lines_every_tenth_when_not_a_terminal():
    stream = io.StringIO()
    assert list(progress(range(50), label="frames", stream=stream)) == list(range(50))
    lines = stream.getvalue().splitlines()
    assert 10 <= len(lines) <= 11 and lines[-1].startswith("frames 100.0% 50/50")


def test_default_stream_is_resolved_when_the_bar_starts(capsys):
    with Progress(total=2, label="fetch") as bar:
        bar.update(2)
    assert "fetch 100.0% 2/2" in capsys.readouterr().err


def test_no_stream_counts_silently():
    with Progress(total=3, stream=None) as bar:
        for _ in range(3):
            bar.update()
    assert bar.count == 3
