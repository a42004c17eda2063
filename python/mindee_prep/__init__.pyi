import os
from typing import IO, Any, Dict, List, Optional, Sequence, Union

__version__: str

Source = Union[bytes, bytearray, memoryview, str, os.PathLike[str], IO[bytes]]

class PrepareError(Exception):
    kind: str
    message: str
    format: Optional[str]
    def __init__(
        self, message: str, *, kind: Optional[str] = ..., format: Optional[str] = ...
    ) -> None: ...

class EmptyFileError(PrepareError): ...
class UnsupportedFormatError(PrepareError): ...
class AnimatedImageError(PrepareError): ...
class EncryptedPdfError(PrepareError): ...
class CorruptError(PrepareError): ...
class TooLargeError(PrepareError): ...
class UndecodableError(PrepareError): ...
class ResourceLimitError(PrepareError): ...
class IoError(PrepareError, OSError): ...
class ConfigError(PrepareError, ValueError): ...

class Prepared:
    data: bytes
    filename: str
    action: str
    report: Dict[str, Any]
    def __init__(self, data: bytes, filename: str, report: Dict[str, Any]) -> None: ...
    @property
    def format(self) -> str: ...
    @property
    def output_format(self) -> str: ...
    @property
    def mime_type(self) -> str: ...

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
) -> Prepared: ...
def prepare_many(
    paths: Sequence[Union[str, os.PathLike[str]]],
    *,
    jobs: Optional[int] = None,
    max_mp: float = 5.0,
    target_mp: float = 4.0,
    quality: int = 85,
    pdf_password: Optional[str] = None,
    pages: Optional[Sequence[int]] = None,
    remove_pages: Optional[Sequence[int]] = None,
    min_pages: int = 0,
) -> List[Union[Prepared, PrepareError]]: ...
def inspect(source: Source) -> Dict[str, Any]: ...
