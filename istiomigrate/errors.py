"""Errors for bad input: one clear line naming file, document, line and field.

The line is escaped (``escape.shown``): a file name or a value from input with a line
break or a terminal escape sequence cannot forge a second line or restyle the terminal.
"""

from __future__ import annotations

from istiomigrate.escape import shown


class InputError(Exception):
    """Input that cannot be converted. Rendered as one line, never a traceback."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        document: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.document = document
        self.field = field

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where += f":{self.line}"
        parts = [where]
        if self.document is not None:
            parts.append(f"document {self.document + 1}")
        if self.field:
            parts.append(f"field {self.field}")
        # Every part may come from input (a file name, a field, a name in the message).
        return shown(": ".join(parts) + ": " + self.message)
