"""Read corpus files into Documents, with clear errors for files that cannot be text."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

from rag.types import Document

logger = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 50_000_000


def sha256_text(text: str) -> str:
    """Hex sha256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Turn files and folders into a sorted list of corpus files.

    Raises:
        ValueError: a path is missing, has an unsupported type, or a folder holds no text files.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not found:
                raise ValueError(f"{path}: folder has no .txt or .md files to index")
            files.extend(found)
        elif path.is_file():
            if path.suffix not in SUFFIXES:
                raise ValueError(f"{path}: only .txt and .md files can be indexed")
            files.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return files


def read_document(path: Path, name: str | None = None) -> Document:
    """Read one UTF-8 text file.

    Raises:
        ValueError: the file is empty, too large, binary or not UTF-8; the message names it.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: {size} bytes is larger than the {MAX_FILE_BYTES} byte limit")
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValueError(f"{path}: looks binary (contains NUL bytes); give a UTF-8 text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from exc
    # A UTF-8 byte-order mark is not part of the text a reader sees.
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ValueError(f"{path}: file is empty; nothing to index")
    return Document(source=name or path.name, text=text, sha256=sha256_text(text))


def read_corpus(paths: Iterable[str | Path]) -> list[Document]:
    """Read every corpus file; source names are file names, made unique if they clash."""
    files = expand_paths(paths)
    docs: list[Document] = []
    seen: set[str] = set()
    for path in files:
        name = path.name if path.name not in seen else str(path)
        seen.add(name)
        docs.append(read_document(path, name))
    logger.info("read %d document(s)", len(docs))
    return docs
