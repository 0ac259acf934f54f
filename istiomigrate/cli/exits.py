"""Exit codes, and the one place where an error meant for the user becomes exit code 2.

Commands are plain functions that return their exit code and raise
:class:`~istiomigrate.errors.InputError`, ``ClusterError`` or
:class:`CommandError` when they cannot go on. :func:`command` wraps each one
as it is registered with the typer app, so that the mapping to ``istiomigrate:
error: <message>`` lives here only, and holds under typer's ``CliRunner`` too
(it calls the app, not :func:`istiomigrate.cli.main`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec

import typer

from istiomigrate.errors import InputError
from istiomigrate.escape import shown

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

P = ParamSpec("P")


class CommandError(Exception):
    """A mistake on the command line (options that exclude each other, a malformed value) or
    a failure the user must fix: printed as one line, exit 2.

    Raised rather than printed where it is found, so that every command's errors look alike.
    typer's own usage errors (unknown option, bad choice) keep their format and also exit 2.
    """


def command(run: Callable[P, int]) -> Callable[P, NoReturn]:
    """``run`` as a typer callback: its return value becomes the exit status.

    ``functools.wraps`` keeps the signature and docstring, from which typer builds the
    options and the help.
    """

    @functools.wraps(run)
    def invoke(*args: P.args, **kwargs: P.kwargs) -> NoReturn:
        raise typer.Exit(exit_code(run, *args, **kwargs))

    return invoke


def exit_code(run: Callable[P, int], *args: P.args, **kwargs: P.kwargs) -> int:
    """Call ``run``; an error for the user is printed as one line and gives exit code 2."""
    try:
        return run(*args, **kwargs)
    except Exception as exc:
        if not _for_the_user(exc):
            raise
        print(f"istiomigrate: error: {shown(exc)}", file=sys.stderr)
        return EXIT_USAGE


def _for_the_user(exc: Exception) -> bool:
    """Errors with a message for the user, as opposed to bugs (which keep their traceback).

    The cluster package is imported only here, on the error path: it is light, but ``check``
    should not load it at all.
    """
    from istiomigrate.cluster import ClusterError

    return isinstance(exc, (InputError, CommandError, ClusterError))
