"""A progress bar on stderr for long runs: only on a terminal, and only after a second.

Short runs (the common case) never draw anything, and output that is piped
or captured never receives control sequences.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from istiomigrate.escape import shown

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

DELAY_SECONDS = 1.0


class Progress:
    def __init__(self, label: str, total: int | None = None,
                 stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self._running: tuple[RichProgress, TaskID] | None = None  # the bar, once drawn

    def __enter__(self) -> Progress:
        return self

    def advance(self, description: str = "") -> None:
        if not self.enabled:
            return
        if self._running is None:
            if time.monotonic() - self.started < DELAY_SECONDS:
                return
            self._running = self._start()
        bar, task = self._running
        # A file name is input: no control characters, and no rich markup (``[bold]``).
        from rich.markup import escape

        bar.update(task, advance=1, description=f"{self.label} {escape(shown(description))}")

    def _start(self) -> tuple[RichProgress, TaskID]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(file=self.stream)
        bar = Progress(TextColumn("{task.description}"), BarColumn(),
                       MofNCompleteColumn(), console=console, transient=True)
        bar.start()
        return bar, bar.add_task(self.label, total=self.total)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._running is not None:
            self._running[0].stop()
