"""The stored index: FAISS vectors, sentences, passages and a manifest, written atomically.

Layout under ``index_dir``: one folder per build (``<build-id>/``) and a ``CURRENT`` file naming
the live one. A build writes its folder completely, checksums every file into the manifest,
then swaps ``CURRENT`` with an atomic rename: a build killed midway leaves the old index live.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.types import Chunk, Document, Sentence

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
POINTER = "CURRENT"
FILES = ("vectors.faiss", "sentences.npy", "corpus.json")


class IndexUnusableError(RuntimeError):
    """The stored index is missing, unreadable or does not match its manifest."""


@dataclass(frozen=True)
class StoredIndex:
    """Everything retrieval needs, loaded into memory once."""

    documents: dict[str, Document]
    sentences: tuple[Sentence, ...]
    chunks: tuple[Chunk, ...]
    vectors: Any  # faiss.Index over chunk embeddings
    sentence_vectors: np.ndarray
    manifest: dict[str, Any]
    path: Path


def make_faiss_index(vectors: np.ndarray, kind: str = "auto") -> Any:
    """Build an inner-product FAISS index of ``kind``: flat, hnsw, ivf or auto (by size)."""
    n, dim = vectors.shape
    if kind == "auto":
        kind = "flat" if n <= 50_000 else "hnsw"
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    elif kind == "ivf":
        nlist = max(1, min(int(4 * math.sqrt(n)), n // 39 or 1))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        # Scan an eighth of the cells (at least 8): recall@10 near 0.95 on clustered text.
        index.nprobe = min(nlist, max(8, nlist // 8))
    else:
        raise ValueError(f"index type {kind!r}: choose auto, flat, hnsw or ivf")
    index.add(vectors)
    return index


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_index(
    index_dir: Path,
    documents: list[Document],
    sentences: list[Sentence],
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    manifest: dict[str, Any],
    index_type: str = "auto",
) -> Path:
    """Write a complete build into a new folder, then make it the live one atomically."""
    index_dir.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=index_dir, prefix="build-"))
    faiss.write_index(make_faiss_index(chunk_vectors, index_type), str(build / "vectors.faiss"))
    np.save(build / "sentences.npy", sentence_vectors)
    corpus = {
        "documents": [dataclasses.asdict(d) for d in documents],
        "sentences": [dataclasses.asdict(s) for s in sentences],
        "chunks": [dataclasses.asdict(c) for c in chunks],
    }
    (build / "corpus.json").write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
    files = {name: _sha256_file(build / name) for name in FILES}
    full = {**manifest, "format_version": FORMAT_VERSION, "files": files}
    (build / "manifest.json").write_text(json.dumps(full, indent=2, sort_keys=True))
    _write_atomic(index_dir / POINTER, build.name.encode())
    _remove_stale(index_dir, keep=build.name)
    logger.info("index written to %s", build)
    return build


def _remove_stale(index_dir: Path, keep: str) -> None:
    for child in index_dir.iterdir():
        if child.is_dir() and child.name.startswith("build-") and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)


def current_build(index_dir: Path) -> Path | None:
    """The live build folder, or None when there is none."""
    pointer = index_dir / POINTER
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    path = index_dir / name
    return path if name and path.is_dir() else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The live build's manifest, or None when missing or unreadable."""
    build = current_build(index_dir)
    if build is None:
        return None
    try:
        return json.loads((build / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def load_index(index_dir: Path) -> StoredIndex:
    """Load the live build, verifying every file against the manifest's checksums.

    Raises:
        IndexUnusableError: nothing built yet, a file missing, truncated or altered.
    """
    build = current_build(index_dir)
    if build is None:
        raise IndexUnusableError(f"no index built under {index_dir}")
    manifest = read_manifest(index_dir)
    if manifest is None or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnusableError(
            f"{build}/manifest.json is missing, unreadable or of an old format"
        )
    checksums = manifest.get("files")
    if not isinstance(checksums, dict) or any(name not in checksums for name in FILES):
        raise IndexUnusableError(f"{build}/manifest.json lacks a checksum for some index file")
    for name, digest in checksums.items():
        path = build / name
        if not path.is_file() or _sha256_file(path) != digest:
            raise IndexUnusableError(f"{path} is missing or does not match its checksum")
    try:
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        sentence_vectors = np.load(build / "sentences.npy")
        corpus = json.loads((build / "corpus.json").read_text(encoding="utf-8"))
        documents = {d["source"]: Document(**d) for d in corpus["documents"]}
        sentences = tuple(Sentence(**s) for s in corpus["sentences"])
        chunks = tuple(
            Chunk(**{**c, "sentence_ids": tuple(c["sentence_ids"])}) for c in corpus["chunks"]
        )
    except Exception as exc:  # any parse failure means the build cannot be trusted
        raise IndexUnusableError(f"{build} could not be read: {exc}") from exc
    if vectors.ntotal != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexUnusableError(f"{build}: vector counts do not match the passages")
    return StoredIndex(documents, sentences, chunks, vectors, sentence_vectors, manifest, build)
