"""The one error an unreadable export raises: it names the file and what is wrong with it."""

from __future__ import annotations


class ExportFormatError(ValueError):
    """A source file that cannot be imported at all (missing, empty, binary, wrong delimiter...)."""
