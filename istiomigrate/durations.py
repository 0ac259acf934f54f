"""Go-style durations, as Pilot parsed them (``time.ParseDuration`` via protobuf).

The user's spelling is kept in the output: v1alpha3 parses durations the same
way, so rewriting ``3m`` as ``180.000s`` (as the old converter did) only makes
diffs harder to review.
"""

from __future__ import annotations

import re

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")


def parse_duration(text: str) -> float:
    """Return the duration in seconds; raise ValueError for anything Go would reject or negative."""
    if not isinstance(text, str) or not text:
        raise ValueError("a duration must be a non-empty string such as 1.5s, 100ms or 3m")
    if text.startswith("-"):
        raise ValueError(f"negative duration {text!r}")
    body = text[1:] if text.startswith("+") else text
    if body == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(body):
        m = _PART.match(body, pos)
        if not m:
            raise ValueError(f"invalid duration {text!r} (expected e.g. 1.5s, 100ms, 1h30m)")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise ValueError(f"invalid duration {text!r}")
    return total
