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


class EmptyStageError(RuntimeError):
    """A stage produced nothing from non-empty input: a failure, never a quiet success."""


def require_output(stage: str, produced: int, received: int, what: str, hint: str = "") -> None:
    """Raise :class:`EmptyStageError` when ``stage`` made ``produced == 0`` ``what`` from ``received > 0`` inputs."""
    if received > 0 and produced == 0:
        raise EmptyStageError(f"{stage}: produced no {what} from {received} input(s)" + (f"; {hint}" if hint else ""))


class MissingJudgmentsError(ValueError):
    """A step that needs relevance judgments got a corpus-only collection."""


def require_judgments(judgments: int, needed_by: str, alternative: str = "") -> None:
    """Fail naming who needs judgments, when a collection has none (``judgments`` is their count)."""
    if judgments == 0:
        raise MissingJudgmentsError(
            f"{needed_by} needs relevance judgments (qrels/<split>.tsv in a BEIR folder, or an ir_datasets id with "
            "qrels), and this collection has none" + (f"; {alternative}" if alternative else ""))
