"""The progress bar: only on a terminal, and only once a run has taken a while."""

from __future__ import annotations

import io

import pytest

from istiomigrate import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(stream: io.StringIO, steps: int = 3) -> str:
    with progress.Progress("reading", total=steps, stream=stream) as bar:
        for i in range(steps):
            bar.advance(f"file-{i}.yaml")
    return stream.getvalue()


def test_nothing_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    assert run(io.StringIO()) == ""


def test_nothing_for_a_short_run_on_a_terminal() -> None:
    assert run(Terminal()) == ""


def test_a_bar_for_a_long_run_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    assert "reading" in run(Terminal())
