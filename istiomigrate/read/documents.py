"""Split manifest text into documents and classify them by text alone.

Most documents in a manifest tree are Deployments and Services that the
converter never touches, so building them as Python objects would be wasted
work. A document is parsed only when a cheap text test says it can be one of
the kinds we care about. Splitting keeps every byte: joining the chunks of a
file gives the file back, which is what lets untouched documents be written
out exactly as they were. Finding and reading the files is ``inputs``' job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from istiomigrate.kinds import KINDS_OF_INTEREST

# YAML forbids a document marker inside content, so a line starting with
# "---" followed by a space or the end of the line always starts a document.
_SEPARATOR = re.compile(r"^---(?=[ \t\r\n]|$)", re.M)

# A ``kind:`` line as written by hand or by kubectl; only locates kinds in templates.
_KIND = re.compile(
    r"""["']?kind["']?\s*:\s*["']?("""
    + "|".join(KINDS_OF_INTEREST)
    + r""")["']?\s*(?:[,}\]\r\n\x85\u2028\u2029#]|$)""",
    re.M,
)
# A tag starts a node: at the start of the text, or after white space or a flow indicator
# or ``:``/``?`` (``{"kind":!!binary …}``). ``#!/bin/sh`` or ``Hello!`` are not tags.
_TAG = re.compile("(?:^|[\\s\\[\\]{},:?\ufeff])!")


def may_hide_names(text: str) -> bool:
    r"""Whether YAML may read in ``text`` a name that is not spelt in it.

    In YAML a scalar is the text between its delimiters, except that line folding adds
    white space, ``''`` in single quotes reads ``'``, a backslash escape in double quotes
    reads any character (``"Route\x52ule"``, JSON's ``\u0052``), and a tag may change
    what is read (``!!binary`` base64; ``%TAG`` can spell it). Anchors, aliases, merge
    keys, block scalars, comments and flow style only move spelt text around. So a name
    without white space or quote (every kind and key we look for) can be read from a text
    that does not contain it only if the text has both a backslash and a double quote, or
    a tag. The test is a superset: a text for which it is False is safe to judge by its
    substrings alone.
    """
    return ("\\" in text and '"' in text) or _TAG.search(text) is not None


@dataclass
class Chunk:
    """One document of a file, with the separator line that opened it.

    ``text`` includes the separator line (empty for the first document), so the
    concatenation of a file's chunks is the file. ``line`` is the 1-based line
    of the chunk's first character.
    """

    index: int
    line: int
    text: str

    @property
    def body_line(self) -> int:
        """Line of the document's first content (past the separator, comments and blanks)."""
        for offset, raw in enumerate(self.text.splitlines()):
            line = raw.strip()
            if line and not line.startswith("#") and not (offset == 0 and line.startswith("---")):
                return self.line + offset
        return self.line

    def kinds(self) -> set[str]:
        """Kinds this document may hold, judged from text (a superset of the truth).

        A kind is possible if its name is in the text, however its ``kind:`` is written
        (``may_hide_names`` says why that is enough); every kind is, when the text has an
        escape or a tag. Most documents name none of these kinds, and cost a few
        substring searches.
        """
        text = self.text
        if may_hide_names(text):
            return set(KINDS_OF_INTEREST)
        return {kind for kind in KINDS_OF_INTEREST if kind in text}

    def is_blank(self) -> bool:
        """True for a chunk with no content but comments, separators and white space."""
        for raw in self.text.splitlines():
            line = raw.strip()
            if line and not line.startswith("#") and line not in ("---", "..."):
                return False
        return True


def split_documents(text: str) -> list[Chunk]:
    """Split YAML text into chunks at document separators, losing no byte."""
    starts = [m.start() for m in _SEPARATOR.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    chunks: list[Chunk] = []
    line = 1
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        piece = text[start:end]
        chunks.append(Chunk(index=i, line=line, text=piece))
        line += piece.count("\n")
    return chunks


def kind_positions(text: str) -> list[tuple[str, int]]:
    """Kinds of interest named in ``text``, each with the offset of its ``kind`` key.

    Locates resources in text that cannot be parsed (templates), where the
    parser's marks are not available.
    """
    return [(m.group(1), m.start()) for m in _KIND.finditer(text)]


def line_and_column(text: str, offset: int, first_line: int = 1) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text`` whose first line is ``first_line``."""
    line = first_line + text.count("\n", 0, offset)
    return line, offset - text.rfind("\n", 0, offset)
