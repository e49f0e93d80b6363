"""Shared pieces of the exporters: errors, cancel/progress plumbing, safe file output."""

from __future__ import annotations

import errno
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from orderdesk.models.errors import CancelledError, OrderdeskError
from orderdesk.store.bulk import FORMULA_STARTS

#: ``progress(done, total)``: called between chunks/orders from the exporting thread.
Progress = Callable[[int, int], None]


class CancelToken(Protocol):
    @property
    def cancelled(self) -> bool: ...


#: Either a function answering "stop now?" or an object with a ``cancelled`` attribute.
Cancel = Callable[[], bool] | CancelToken


class ExportError(OrderdeskError):
    """An export could not be written; the message says why in a clerk's words."""


class ExportCancelled(CancelledError):
    """The export was cancelled; no file was left under the chosen name."""

    def __init__(self, message: str = "The export was cancelled. No file was written.") -> None:
        super().__init__(message)


class SimpleCancelToken:
    """A thread-safe enough cancel flag (one writer, readers poll a bool)."""

    def __init__(self) -> None:
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        self._cancelled = True


def cancel_check(cancel: Cancel | None) -> Callable[[], None]:
    """A function that raises :class:`ExportCancelled` once ``cancel`` says so."""
    if cancel is None:
        return _never
    probe: Callable[[], bool]
    if callable(cancel):
        probe = cancel
    else:
        token = cancel

        def probe() -> bool:
            return bool(token.cancelled)

    def check() -> None:
        if probe():
            raise ExportCancelled()

    return check


def _never() -> None:
    return None


def report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


# -- values ------------------------------------------------------------------------------

def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text: a leading ``'`` before a formula start.

    Applied to text columns only. Numbers orderdesk formats itself (money,
    counts, dates) are never prefixed, so ``-5.00`` stays a number.
    """
    if text and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text



def iso_utc(value: datetime | None) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2025-01-01T10:30:00Z`` (µs only when present)."""
    if value is None:
        return ""
    utc = value.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


# -- files -------------------------------------------------------------------------------

def _explain(exc: OSError, target: Path) -> ExportError:
    folder = target.parent
    if isinstance(exc, PermissionError):
        message = f"You are not allowed to write to the folder {folder}. Choose another folder."
    elif isinstance(exc, FileNotFoundError):
        message = f"The folder {folder} does not exist. Choose an existing folder."
    elif isinstance(exc, IsADirectoryError):
        message = f"{target} is a folder. Choose a file name."
    elif exc.errno == errno.ENOSPC:
        message = f"The disk holding {folder} is full. Free some space or choose another place."
    elif exc.errno == errno.EROFS:
        message = f"The folder {folder} is read-only. Choose another folder."
    else:
        message = f"The export could not be written to {target}."
    return ExportError(message, details=f"{type(exc).__name__}: {exc}")


def os_error(exc: OSError, target: Path) -> ExportError:
    """A clerk-readable :class:`ExportError` for a failed file operation."""
    return _explain(exc, target)


def check_destination_file(path: Path) -> None:
    """Fail early, before any work, when ``path`` cannot become the export file."""
    if path.is_dir():
        raise ExportError(f"{path} is a folder. Choose a file name.")
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"The folder {folder} does not exist. Choose an existing folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"You are not allowed to write to the folder {folder}. "
                          "Choose another folder.")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary file name beside ``target``; renamed onto it when the block succeeds.

    On any exception (including cancellation) the temporary file is removed, so
    the chosen name never holds a half-written export.
    """
    target = Path(target)
    check_destination_file(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name[:80]}.", suffix=".part",
                                        dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise os_error(exc, target) from exc
    tmp = Path(tmp_name)
    try:
        yield tmp
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


def commit(tmp: Path, target: Path) -> None:
    """Move a finished temporary file onto its final name (atomic on one file system)."""
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink()
        raise os_error(exc, target) from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\s]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(stem: str, *, fallback: str = "order", max_length: int = 100) -> str:
    """A file name stem safe on Linux, macOS and Windows, made from untrusted text."""
    text = unicodedata.normalize("NFC", stem)
    text = _FORBIDDEN.sub("_", text).strip("._ ")
    if len(text.encode("utf-8")) > max_length:
        text = text.encode("utf-8")[:max_length].decode("utf-8", "ignore").rstrip("._ ")
    if not text:
        text = fallback
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    return text


@dataclass(frozen=True, slots=True)
class CsvExportResult:
    path: Path
    rows: int  #: data rows written (without the header)
    orders: int
    seconds: float
    sha256: str  #: of the CSV file's bytes, BOM included
    metadata_path: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.path,) if self.metadata_path is None else (self.path, self.metadata_path)


@dataclass(frozen=True, slots=True)
class PdfExportResult:
    paths: tuple[Path, ...]  #: one batch file, or one file per order
    orders: int
    pages: int
    seconds: float
    mode: str  #: ``"batch"`` or ``"per-order"``
    folder: Path | None = None  #: the destination folder in per-order mode

    @property
    def path(self) -> Path:
        """The batch file, or the folder of per-order files."""
        return self.folder if self.folder is not None else self.paths[0]
