"""Errors that name the file, the line and what was expected."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """Bad input data. ``str(err)`` reads ``path:line: message`` (line omitted when not known)."""

    def __init__(self, path: str | Path | None, line: int | None, message: str):
        self.path = str(path) if path is not None else None
        self.line = line
        self.message = message
        where = self.path or "<input>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class DatasetUnavailableError(RuntimeError):
    """A named dataset could not be loaded (usually: it must be downloaded and we are offline)."""
