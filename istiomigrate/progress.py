"""A progress bar on stderr for long runs: only on a terminal, and only after a second.

Short runs (the common case) never draw anything, and output that is piped
or captured never receives control sequences.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

DELAY_SECONDS = 1.0


class Progress:
    def __init__(self, label: str, total: int | None = None, stream=None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self._bar = None
        self._task = None

    def __enter__(self) -> Progress:
        return self

    def advance(self, description: str = "") -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self.started < DELAY_SECONDS:
                return
            self._start()
        self._bar.update(self._task, advance=1, description=f"{self.label} {description}")

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(file=self.stream)
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), console=console, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=self.total)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
