"""Build sentence-aligned passages: overlapping windows of sentences inside one paragraph."""

from __future__ import annotations

from itertools import groupby

from rag.types import Chunk, Document, Sentence


def chunk_sentences(
    doc: Document, sentences: list[Sentence], size: int, overlap: int, first_id: int = 0
) -> list[Chunk]:
    """Group a document's sentences into windows of ``size`` with ``overlap`` shared.

    Repeated pull-quote sentences (``duplicate_of >= 0``) are left out, so a passage is never
    indexed twice; windows never cross a paragraph, so every chunk has one paragraph number.

    Raises:
        ValueError: ``size`` or ``overlap`` are out of range.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(
            f"chunk size {size} / overlap {overlap}: need size >= 1, 0 <= overlap < size"
        )
    step = size - overlap
    chunks: list[Chunk] = []
    kept = [s for s in sentences if s.source == doc.source and s.duplicate_of < 0]
    for paragraph, group in groupby(kept, key=lambda s: s.paragraph):
        para = list(group)
        starts = range(0, max(len(para) - overlap, 1), step)
        for i in starts:
            window = para[i : i + size]
            start, end = window[0].start, window[-1].end
            chunks.append(
                Chunk(
                    id=first_id + len(chunks),
                    source=doc.source,
                    start=start,
                    end=end,
                    paragraph=paragraph,
                    text=doc.text[start:end],
                    sentence_ids=tuple(s.id for s in window),
                )
            )
    return chunks
