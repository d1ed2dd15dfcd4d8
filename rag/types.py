"""The nouns of Verbatim. Everything else passes these frozen dataclasses around."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """A source file: its name, full text and sha256."""

    source: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == document.text[start:end]``.

    ``duplicate_of`` holds the index of the body sentence this one repeats (pull quotes), or -1.
    """

    id: int
    source: str
    start: int
    end: int
    paragraph: int
    text: str
    duplicate_of: int = -1


def paragraph_of(sentence: Sentence, sentences: Sequence[Sentence]) -> Sequence[Sentence]:
    """The sentences of ``sentence``'s paragraph, in order. ``sentences`` is the index's list,
    where each sentence sits at its id and a paragraph's sentences are consecutive."""
    key = (sentence.source, sentence.paragraph)
    start = end = sentence.id
    while start > 0 and (sentences[start - 1].source, sentences[start - 1].paragraph) == key:
        start -= 1
    while (
        end + 1 < len(sentences)
        and (sentences[end + 1].source, sentences[end + 1].paragraph) == key
    ):
        end += 1
    return sentences[start : end + 1]


@dataclass(frozen=True)
class Chunk:
    """A window of consecutive sentences of one paragraph, with exact offsets."""

    id: int
    source: str
    start: int
    end: int
    paragraph: int
    text: str
    sentence_ids: tuple[int, ...]


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieved for one question."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float = 0.0
    bm25_score: float = 0.0


@dataclass(frozen=True)
class Evidence:
    """A sentence scored for one question."""

    sentence: Sentence
    score: float
    rank: int
    similarity: float


@dataclass(frozen=True)
class Citation:
    """A numbered verbatim quote: ``quote == text_of(source)[start:end]``."""

    n: int
    quote: str
    source: str
    start: int
    end: int
    paragraph: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class AnswerQuote:
    """Where a short answer stands: words of citation ``n``, with
    ``text == text_of(source)[start:end]``."""

    n: int
    source: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Answer:
    """What the bot says to one question."""

    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    related: tuple[Citation, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""
    mode: str = ""
    complete: bool = True
    answer_quote: AnswerQuote | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "related": [c.to_dict() for c in self.related],
            "timings": dict(self.timings),
            "model": self.model,
            "mode": self.mode,
            "complete": self.complete,
            "answer_quote": self.answer_quote.to_dict() if self.answer_quote else None,
        }


def final_answer(answers: Iterable[Answer]) -> Answer:
    """The last Answer of an ``ask_stream``, which must be its complete one.

    Raises:
        RuntimeError: the stream ended without a complete answer.
    """
    last = deque(answers, maxlen=1)
    if not last or not last[0].complete:
        raise RuntimeError("the pipeline ended without a final answer")
    return last[0]
