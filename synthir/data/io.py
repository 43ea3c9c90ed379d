"""Low-level file helpers shared by readers and writers: strict line reading and atomic writes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from synthir.data.errors import DataFormatError
from synthir.data.records import ReadStats

logger = logging.getLogger(__name__)

BAD_LINE_POLICIES = ("raise", "skip")


def check_policy(on_bad_line: str) -> None:
    if on_bad_line not in BAD_LINE_POLICIES:
        raise ValueError(f"on_bad_line must be one of {BAD_LINE_POLICIES}, got {on_bad_line!r}")


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise DataFormatError(path, None, f"file not found; expected {what}")
    if not path.is_file():
        raise DataFormatError(path, None, f"is not a file; expected {what}")
    return path


def decode_utf8(path: Path, data: bytes) -> str:
    """A whole file's bytes as text (a leading BOM dropped), or a DataFormatError naming the line and
    byte that are not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataFormatError(path, line, f"not valid UTF-8 (byte 0x{data[err.start]:02x}); re-encode the file as "
                                          "UTF-8 (e.g. `iconv -f latin1 -t utf-8`)") from None


def iter_lines(
    path: Path, stats: ReadStats, on_bad_line: str = "raise"
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for non-blank lines, decoding UTF-8 strictly per line.

    A line that is not valid UTF-8 raises a DataFormatError naming the line and byte offset, or is
    skipped and counted when ``on_bad_line="skip"``.
    """
    check_policy(on_bad_line)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            stats.lines += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                message = (
                    f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1});"
                    " re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
                )
                if on_bad_line == "skip":
                    stats.skipped_bad_lines += 1
                    logger.warning("%s:%d: skipped: %s", path, number, message)
                    continue
                raise DataFormatError(path, number, message) from None
            text = text.rstrip("\r\n")
            if text.strip():
                yield number, text


def iter_json_lines(
    path: Path, stats: ReadStats, on_bad_line: str = "raise"
) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in iter_lines(path, stats, on_bad_line):
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError(f"expected a JSON object, got {type(record).__name__}")
        except ValueError as err:
            message = f"malformed JSON line ({err}); expected one JSON object per line"
            if on_bad_line == "skip":
                stats.skipped_bad_lines += 1
                logger.warning("%s:%d: skipped: %s", path, number, message)
                continue
            raise DataFormatError(path, number, message) from None
        yield number, record


def pick_field(
    record: dict[str, Any], names: tuple[str, ...], path: Path, line: int, what: str
) -> Any:
    """Return the first present field among ``names`` (readers accept the common spellings)."""
    for name in names:
        if name in record and record[name] is not None:
            return record[name]
    raise DataFormatError(
        path, line, f"missing {what}: expected one of the fields {list(names)}, got {sorted(record)}"
    )


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and move it into place only on success.

    A crash mid-write leaves any previous file intact and no half-written file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Fill a temporary sibling folder, then swap it in place of ``target`` only on success: a crash
    never leaves half a model behind (the previous one, if any, stays until the swap)."""
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
