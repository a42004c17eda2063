"""Get documents and photos ready for the Mindee document-AI API (V2), in process.

The same pipeline as the ``mindee-prep`` command (a Rust library): the format is detected from
the bytes, what the API would refuse raises an exception with a stable ``kind``, images over
5 MP are scaled to about 4 MP (upright, same aspect ratio), and everything within budget comes
back byte-identical. The GIL is released while a file is prepared, so threads scale, and
:func:`prepare_many` runs on every core.

>>> import mindee_prep
>>> p = mindee_prep.prepare("fixtures/jpeg/large_24mp.jpg")        # doctest: +SKIP
>>> p.action, p.filename, p.report["out_width"], p.report["out_height"]  # doctest: +SKIP
('downscaled', 'large_24mp.jpg', 2450, 1633)

Hand the result to the official SDK (``pip install mindee``)::

    from mindee import BytesInput
    source = BytesInput(p.data, p.filename)
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _native

__all__ = [
    "prepare",
    "prepare_many",
    "inspect",
    "Prepared",
    "PrepareError",
    "EmptyFileError",
    "UnsupportedFormatError",
    "AnimatedImageError",
    "EncryptedPdfError",
    "CorruptError",
    "TooLargeError",
    "UndecodableError",
    "ResourceLimitError",
    "IoError",
    "ConfigError",
    "InternalError",
]

__version__ = _native.__version__

_MIME_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
    "tiff": "image/tiff",
}


class PrepareError(Exception):
    """A file was refused or could not be prepared.

    ``kind`` is the stable machine-readable name (the ``error.kind`` of ``prepare --json``:
    ``"animated_image"``, ``"encrypted_pdf"``, …), ``message`` the sentence for a person and
    ``format`` the format the bytes were found to be, when known. Each kind has its own
    subclass, so ``except mindee_prep.EncryptedPdfError`` works as well as checking ``.kind``.

    >>> try:
    ...     mindee_prep.prepare(b"")
    ... except mindee_prep.PrepareError as e:
    ...     print(e.kind, type(e).__name__)                    # doctest: +SKIP
    empty_file EmptyFileError
    """

    kind: str = "unknown"

    def __init__(self, message: str, *, kind: Optional[str] = None, format: Optional[str] = None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.message = message
        self.format = format

    def __reduce__(self):  # keeps pickling (multiprocessing) working with keyword arguments
        return (_rebuild_error, (type(self), self.message, self.kind, self.format))


def _rebuild_error(cls, message, kind, format):
    return cls(message, kind=kind, format=format)


class EmptyFileError(PrepareError):
    """The input has no bytes at all (``empty_file``)."""

    kind = "empty_file"


class UnsupportedFormatError(PrepareError):
    """A format the API does not accept (GIF, BMP, AVIF, …) or not recognised (``unsupported_format``)."""

    kind = "unsupported_format"


class AnimatedImageError(PrepareError):
    """An animated WebP/PNG or a HEIF sequence: the API wants one still frame (``animated_image``)."""

    kind = "animated_image"


class EncryptedPdfError(PrepareError):
    """A PDF that needs a password; pass ``pdf_password=`` (``encrypted_pdf``)."""

    kind = "encrypted_pdf"


class CorruptError(PrepareError):
    """The bytes claim to be an accepted format but are damaged (``corrupt``)."""

    kind = "corrupt"


class TooLargeError(PrepareError):
    """Over a pixel, byte or page limit (``too_large``)."""

    kind = "too_large"


class UndecodableError(PrepareError):
    """An accepted format whose variant this build cannot decode, over budget (``undecodable``)."""

    kind = "undecodable"


class ResourceLimitError(PrepareError):
    """A limit of this tool was hit on a valid file, not a fault in the file (``resource_limit``)."""

    kind = "resource_limit"


class IoError(PrepareError, OSError):
    """Reading the file failed (``io``). Also an :class:`OSError`."""

    kind = "io"


class ConfigError(PrepareError, ValueError):
    """Invalid options, e.g. ``target_mp`` over ``max_mp`` (``config``). Also a :class:`ValueError`."""

    kind = "config"


class InternalError(PrepareError):
    """A bug in this tool (an encoder panicked, an impossible plan), not a fault in the file (``internal``)."""

    kind = "internal"


_ERRORS = {
    cls.kind: cls
    for cls in (
        EmptyFileError,
        UnsupportedFormatError,
        AnimatedImageError,
        EncryptedPdfError,
        CorruptError,
        TooLargeError,
        UndecodableError,
        ResourceLimitError,
        IoError,
        ConfigError,
        InternalError,
    )
}


def _error(kind: str, message: str, format: Optional[str]) -> PrepareError:
    return _ERRORS.get(kind, PrepareError)(message, kind=kind, format=format)


class Prepared:
    """A file ready to send: ``data`` (bytes), ``filename``, ``action`` and ``report``.

    ``filename`` is the name that follows the bytes: the input's stem with the output format's
    extension (``scan.heic`` → ``scan.jpg``). ``action`` is ``"passthrough"`` (the original
    bytes), ``"downscaled"``, ``"converted"`` or ``"repaired"``. ``report`` is a dict with the
    fields of a ``prepare --json`` line that describe the file (``format``, ``output_format``,
    ``width``, ``height``, ``out_width``, ``out_height``, ``bytes_in``, ``bytes_out``, ``pages``,
    and for some inputs ``page_sizes``, ``page_images``, ``out_pages``, ``reason``).

    >>> p = mindee_prep.prepare("scan.heic")                   # doctest: +SKIP
    >>> from mindee import BytesInput                          # doctest: +SKIP
    >>> source = BytesInput(p.data, p.filename)                # doctest: +SKIP
    """

    __slots__ = ("data", "filename", "action", "report")

    def __init__(self, data: bytes, filename: str, report: Dict[str, Any]):
        self.data = data
        self.filename = filename
        self.action: str = report["action"]
        self.report = report

    @property
    def format(self) -> str:
        """The input's format (``"jpeg"``, ``"heic"``, ``"pdf"``, …)."""
        return self.report["format"]

    @property
    def output_format(self) -> str:
        """The format of ``data``."""
        return self.report["output_format"]

    @property
    def mime_type(self) -> str:
        """The MIME type of ``data`` (``"image/jpeg"``, ``"application/pdf"``, …)."""
        return _MIME_TYPES[self.output_format]

    def __repr__(self) -> str:
        return (
            f"Prepared(filename={self.filename!r}, action={self.action!r}, "
            f"{self.report['bytes_in']} -> {len(self.data)} bytes)"
        )


Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", Any]


def _stem(name: Optional[str]) -> str:
    if not name:
        return "file"
    base = os.path.basename(os.fspath(name))
    stem, _ = os.path.splitext(base)
    if base.startswith(".") and not stem.strip("."):
        stem = base
    return stem or "file"


def _options(
    max_mp: float,
    target_mp: float,
    quality: int,
    pdf_password: Optional[str],
    pages: Optional[Sequence[int]],
    remove_pages: Optional[Sequence[int]],
    min_pages: int,
) -> tuple:
    if pages is not None and remove_pages is not None:
        raise ConfigError("pages and remove_pages cannot be used together", kind="config")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ConfigError(
            f"invalid configuration: quality must be an integer between 1 and 100, not {quality!r}",
            kind="config",
        )
    if isinstance(min_pages, bool) or not isinstance(min_pages, int) or min_pages < 0:
        raise ConfigError(
            f"invalid configuration: min_pages must be a non-negative integer, not {min_pages!r}",
            kind="config",
        )
    return (
        float(max_mp),
        float(target_mp),
        int(quality),
        pdf_password,
        None if pages is None else [int(i) for i in pages],
        None if remove_pages is None else [int(i) for i in remove_pages],
        int(min_pages),
    )


def _result(outcome: tuple, stem: str) -> Union[Prepared, PrepareError]:
    status, a, b, c = outcome
    if status != "ok":
        return _error(a, b, c)
    return Prepared(a, f"{stem}.{b}", json.loads(c))


def _read_source(source: Any, name: Optional[str]):
    """(bytes or None, path or None, stem) for any accepted source."""
    if isinstance(source, bytes):
        return source, None, _stem(name)
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source), None, _stem(name)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return None, path, _stem(name or path)
    read = getattr(source, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"the file object must be opened in binary mode (read() gave {type(data).__name__})"
            )
        file_name = getattr(source, "name", None)
        if not isinstance(file_name, (str, os.PathLike)):
            file_name = None
        return bytes(data), None, _stem(name or file_name)
    raise TypeError(
        "source must be bytes, a path (str or os.PathLike) or a binary file object, "
        f"not {type(source).__name__}"
    )


def prepare(
    source: Source,
    *,
    max_mp: float = 5.0,
    target_mp: float = 4.0,
    quality: int = 85,
    pdf_password: Optional[str] = None,
    pages: Optional[Sequence[int]] = None,
    remove_pages: Optional[Sequence[int]] = None,
    min_pages: int = 0,
    name: Optional[str] = None,
) -> Prepared:
    """Prepare one file for the Mindee API and return a :class:`Prepared`.

    ``source`` is ``bytes`` (or a bytearray/memoryview), a path (``str`` or ``os.PathLike``) or
    a binary file object (anything with ``read()``; read to the end). The format is found from
    the bytes, never from the name.

    - Within ``max_mp`` megapixels (every TIFF page, every PDF image): the original bytes,
      ``action == "passthrough"``.
    - Over it: scaled to about ``target_mp`` megapixels, upright (EXIF orientation applied),
      re-encoded (JPEG at ``quality``; PNG stays PNG; TIFF stays TIFF; PDF keeps its pages,
      text and layout with only its large images re-encoded), ``action == "downscaled"``.
    - HEIC, WebP and other formats may be converted; see ``report["reason"]``.

    PDF options: ``pdf_password`` opens an encrypted PDF (the result is not encrypted);
    ``pages=[0, -1]`` keeps only those 0-based pages (negative from the end),
    ``remove_pages=[0]`` removes them, each only for documents of at least ``min_pages`` pages.
    ``name`` sets the stem of ``filename`` for bytes and file objects (default: the file
    object's ``name``, else ``"file"``).

    Raises a :class:`PrepareError` subclass for what the API would refuse or what cannot be
    prepared (``AnimatedImageError``, ``EncryptedPdfError``, ``UnsupportedFormatError``,
    ``CorruptError``, ``TooLargeError``, …), ``IoError`` when a path cannot be read and
    ``ConfigError`` for bad options. The GIL is released while the file is prepared.

    >>> import mindee_prep
    >>> p = mindee_prep.prepare("photos/IMG_0042.heic")         # doctest: +SKIP
    >>> p.filename, p.action, (p.report["out_width"], p.report["out_height"])  # doctest: +SKIP
    ('IMG_0042.jpg', 'downscaled', (1633, 2450))
    >>> with open("scan.pdf", "rb") as f:                      # doctest: +SKIP
    ...     p = mindee_prep.prepare(f, pages=[0, -1])
    """
    opts = _options(max_mp, target_mp, quality, pdf_password, pages, remove_pages, min_pages)
    data, path, stem = _read_source(source, name)
    if path is not None:
        outcome = _native.prepare_path(path, *opts)
    else:
        outcome = _native.prepare_bytes(data, *opts)
    result = _result(outcome, stem)
    if isinstance(result, PrepareError):
        raise result
    return result


def prepare_many(
    paths: Sequence[Union[str, "os.PathLike[str]"]],
    *,
    jobs: Optional[int] = None,
    max_mp: float = 5.0,
    target_mp: float = 4.0,
    quality: int = 85,
    pdf_password: Optional[str] = None,
    pages: Optional[Sequence[int]] = None,
    remove_pages: Optional[Sequence[int]] = None,
    min_pages: int = 0,
) -> List[Union[Prepared, PrepareError]]:
    """Prepare many files on all cores (``jobs`` threads; default one per core).

    Returns one item per path, in input order: a :class:`Prepared`, or the
    :class:`PrepareError` instance that :func:`prepare` would have raised for that file. One bad
    file never raises for the batch; only bad options raise (``ConfigError``). The GIL is
    released for the whole batch. Takes the same options as :func:`prepare`.

    >>> results = mindee_prep.prepare_many(["a.jpg", "b.webp", "c.gif"])  # doctest: +SKIP
    >>> for path, r in zip(["a.jpg", "b.webp", "c.gif"], results):       # doctest: +SKIP
    ...     if isinstance(r, mindee_prep.PrepareError):
    ...         print(path, "refused:", r.kind)
    ...     else:
    ...         print(path, "->", r.filename, r.action)
    """
    opts = _options(max_mp, target_mp, quality, pdf_password, pages, remove_pages, min_pages)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ConfigError(
            f"invalid configuration: jobs must be a positive integer, not {jobs!r}", kind="config"
        )
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("prepare_many takes a list of paths; use prepare() for one file")
    fs_paths = [os.fsdecode(os.fspath(p)) for p in paths]
    invalid, outcomes = _native.prepare_many(fs_paths, jobs or 0, *opts)
    if invalid is not None:
        raise _result(invalid, "")
    return [_result(o, _stem(p)) for o, p in zip(outcomes, fs_paths)]


def inspect(source: Source) -> Dict[str, Any]:
    """What format detection sees, without preparing anything.

    Returns the object ``mindee-prep inspect`` prints (without ``input``): ``status``
    (``"ok"``, or ``"rejected"`` with ``error = {"kind", "message"}`` for what the API would
    refuse), ``bytes``, ``format``, ``width``, ``height``, ``pages``, ``orientation`` and the
    format's details. Only an unreadable path raises (``IoError``).

    >>> mindee_prep.inspect("fixtures/webp/animated.webp")["error"]["kind"]  # doctest: +SKIP
    'animated_image'
    """
    data, path, _ = _read_source(source, None)
    if path is not None:
        status, a, b, c = _native.read_file(path)
        if status != "ok":
            raise _error(a, b, c)
        data = a
    return json.loads(_native.inspect_bytes(data))
