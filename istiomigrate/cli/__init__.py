"""Command line: the edge where files, terminals and exit codes live.

One module per command (``convert``, ``check``, ``verify``), the options they share
(``options``), the exit codes and the one place errors become exit code 2 (``exits``),
and the typer app that puts them together (``app``).

Exit codes (also in the README): 0 success; 1 the command's finding (error
findings, legacy resources remaining, requests routed differently); 2 bad
invocation or unreadable input.
"""

from istiomigrate.cli.app import app, main

__all__ = ["app", "main"]
