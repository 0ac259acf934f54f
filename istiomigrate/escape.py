"""One escaping rule for every value from input that reaches a terminal, a log or a comment.

Input is hostile: a resource name, a field name, a file name or the text of a
YAML error can hold a line break (which would forge a second finding line, or
a second YAML line under a ``#`` comment), an ANSI escape sequence (which
would rewrite what a terminal shows), or a bidirectional override (which
would make a line read differently from what it says). :func:`shown` renders
each such character as a visible escape, so what it returns is one line that
shows exactly what the input held. Standard library only: ``check`` imports it.
"""

from __future__ import annotations

import re

# C0 controls (tab and line feed included), DEL, C1 controls (NEL included), the Unicode
# line and paragraph separators, the bidi embeddings, overrides and isolates, the
# zero-width and directional marks, the byte order mark, and lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: object) -> str:
    """``text`` as one printable line: each unsafe character as ``\\xNN`` or ``\\uNNNN``.

    Idempotent (``shown(shown(t)) == shown(t)``), so layers that each escape what they
    print (a finding line inside an error, a message inside a GitHub annotation) compose;
    backslashes are left alone for the same reason, and Windows paths read as written.
    """
    return _UNSAFE.sub(_escaped, str(text))

