"""Scores for one item and their aggregation; every definition is spelled out in docs/eval.md.

Per-item scores are plain dicts (``None`` = does not apply to this item), so they can be
written to ``predictions.jsonl`` as they are and aggregated again from there.
"""

from __future__ import annotations

import logging
import math
import re
import string
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

MAX_RANK = 10
HIT_KS = tuple(range(1, MAX_RANK + 1))
ANSWER_METRICS = ("exact_match", "f1", "lenient_hit")
# Aggregate metrics where higher is better: the ones ``--fail-under`` can gate.
HIGHER_IS_BETTER = (
    *ANSWER_METRICS,
    "quote_verbatim",
    "citation_recall",
    "citation_precision",
    *(f"hit@{k}" for k in HIT_KS),
    "mrr",
    "abstain_recall",
    "abstain_precision",
)
# Aggregate metrics where lower is better: the ones ``--fail-over`` can gate.
LOWER_IS_BETTER = ("false_abstain_rate", "latency_p50_s", "latency_p95_s")
# Metrics in seconds (any value >= 0); every other gated metric is a rate in [0, 1].
SECONDS_METRICS = ("latency_p50_s", "latency_p95_s")

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\[\d+\]")
_ASCII_PUNCT = frozenset(string.punctuation)

Scores = dict[str, Any]


@dataclass(frozen=True)
class Span:
    """A piece of a source document: ``text`` should equal ``source_text[start:end]``."""

    source: str
    start: int
    end: int
    text: str


# --- answers --------------------------------------------------------------------------------


def _is_punct(char: str) -> bool:
    return char in _ASCII_PUNCT or unicodedata.category(char).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD v2 normalisation: lowercase, drop punctuation (curly quotes too), articles, spaces."""
    text = "".join(c for c in text.lower() if not _is_punct(c))
    return " ".join(_ARTICLES.sub(" ", text).split())


def split_answer(text: str) -> str:
    """Like :func:`normalize_answer`, but punctuation separates words ("Vienna-based" holds
    "Vienna", "Security’s" holds "Security"): containment is asked of words, not of strings."""
    text = "".join(" " if _is_punct(c) else c for c in text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def strip_markers(text: str) -> str:
    """The answer without citation markers such as ``[1]``."""
    return _MARKER.sub(" ", text)


def _contains(outer: str, inner: str) -> bool:
    """Whether normalised ``inner`` occurs in normalised ``outer`` as whole tokens."""
    return bool(inner) and f" {inner} " in f" {outer} "


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals some normalised gold answer."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token-overlap F1 between one prediction and one gold answer."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, golds: Sequence[str]) -> float:
    """Token F1, the maximum over gold answers."""
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def lenient_hit(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if some gold answer appears, as whole words, in the prediction (both split on
    punctuation)."""
    pred = split_answer(prediction)
    return float(any(_contains(pred, split_answer(g)) for g in golds))


def answer_scores(
    prediction: str, abstained: bool, answerable: bool, golds: Sequence[str]
) -> Scores:
    """Exact match, F1 and lenient hit with the SQuAD v2 rule for abstentions.

    Unanswerable: 1 if the system abstained, else 0. Answerable: 0 if it abstained, else the
    score against ``golds``; ``None`` if the item has no gold answer to compare with.
    """
    if not answerable:
        value = float(abstained)
        return dict.fromkeys(ANSWER_METRICS, value)
    if not golds:
        return dict.fromkeys(ANSWER_METRICS)
    if abstained:
        return dict.fromkeys(ANSWER_METRICS, 0.0)
    text = strip_markers(prediction)
    return {
        "exact_match": exact_match(text, golds),
        "f1": f1_score(text, golds),
        "lenient_hit": lenient_hit(text, golds),
    }


# --- quotes and citations -------------------------------------------------------------------


def is_verbatim(span: Span, sources: Mapping[str, str]) -> bool:
    """Whether the quote is exactly its source's text at its offsets."""
    text = sources.get(span.source)
    return (
        text is not None
        and 0 <= span.start <= span.end
        and text[span.start : span.end] == (span.text)
    )


def locate(quotes: Iterable[str], sources: Mapping[str, str]) -> tuple[Span, ...]:
    """Every occurrence of every quote in every source, as spans."""
    spans = []
    for quote in quotes:
        if not quote:
            continue
        for name, text in sources.items():
            start = text.find(quote)
            while start != -1:
                spans.append(Span(name, start, start + len(quote), quote))
                start = text.find(quote, start + 1)
    return tuple(spans)


@dataclass(frozen=True)
class Gold:
    """An item's gold quotes: their texts, normalised, and where they occur in the sources."""

    normalized: tuple[str, ...]
    spans: tuple[Span, ...]

    @classmethod
    def of(cls, quotes: Sequence[str], sources: Mapping[str, str]) -> Gold:
        normalized = tuple(n for n in (normalize_answer(q) for q in quotes) if n)
        return cls(normalized, locate(quotes, sources))

    @classmethod
    def pinned(cls, spans: Sequence[Span]) -> Gold:
        """Gold locations known by offsets alone (SQuAD's ``answer_start``): no text match, so
        a passage holding the same words elsewhere is not a hit."""
        return cls((), tuple(spans))

    def __bool__(self) -> bool:
        return bool(self.normalized or self.spans)


def find_context(context: str, sources: Mapping[str, str]) -> tuple[str, int] | None:
    """The source holding ``context`` verbatim (surrounding whitespace aside) and the offset
    of ``context[0]`` in it; ``None`` if no source does."""
    core = context.strip()
    if not core:
        return None
    lead = len(context) - len(context.lstrip())
    for name, text in sources.items():
        at = text.find(core)
        if at >= 0:
            return name, at - lead
    return None


def anchor_spans(
    context: str, offsets: Sequence[tuple[int, int]], sources: Mapping[str, str]
) -> tuple[Span, ...]:
    """``offsets`` in ``context`` mapped into the source that holds ``context`` (none if the
    context is not in a source, or an offset falls outside the found text)."""
    found = find_context(context, sources)
    if found is None:
        return ()
    name, base = found
    text = sources[name]
    spans = []
    for start, end in offsets:
        piece = context[start:end]
        if base + start >= 0 and text[base + start : base + end] == piece:
            spans.append(Span(name, base + start, base + end, piece))
    return tuple(spans)


def overlaps(span: Span, gold: Gold) -> bool:
    """Whether ``span`` overlaps a gold quote: by offsets, or one text contains the other."""
    for g in gold.spans:
        if g.source == span.source and span.start < g.end and g.start < span.end:
            return True
    text = normalize_answer(span.text)
    return any(_contains(text, g) or _contains(g, text) for g in gold.normalized)


def citation_recall(quotes: Sequence[Span], gold: Gold) -> float | None:
    """1.0 if some quote overlaps a gold quote; ``None`` without gold quotes."""
    if not gold:
        return None
    return float(any(overlaps(q, gold) for q in quotes))


def citation_precision(quotes: Sequence[Span], gold: Gold) -> float | None:
    """Share of quotes overlapping a gold quote; ``None`` without quotes or gold quotes."""
    if not gold or not quotes:
        return None
    return sum(overlaps(q, gold) for q in quotes) / len(quotes)


def first_hit_rank(retrieved: Sequence[Span], gold: Gold) -> int | None:
    """1-based rank of the first retrieved span overlapping a gold quote; 0 if none does;
    ``None`` without gold quotes."""
    if not gold:
        return None
    for rank, span in enumerate(retrieved[:MAX_RANK], start=1):
        if overlaps(span, gold):
            return rank
    return 0


# --- one item -------------------------------------------------------------------------------


def item_scores(
    *,
    answer: str,
    abstained: bool,
    answerable: bool,
    golds: Sequence[str],
    gold: Gold,
    citations: Sequence[Span],
    shown: Sequence[Span],
    retrieved: Sequence[Span],
    sources: Mapping[str, str],
    latency_s: float,
    error: bool = False,
) -> Scores:
    """All per-item scores.

    Args:
        citations: The quotes cited for the answer.
        shown: Every quote shown to the reader (citations and related quotes), checked verbatim.
        retrieved: Passages in rank order, for retrieval hit@k and MRR.
        error: The bot failed on the item: retrieval never ran, so it has no rank and stays
            out of hit@k and MRR (the answer metrics score it 0).
    """
    rank = first_hit_rank(retrieved, gold) if answerable and not error else None
    return {
        "answerable": answerable,
        "abstained": abstained,
        "error": error,
        **answer_scores(answer, abstained, answerable, golds),
        "quotes_checked": len(shown),
        "quotes_verbatim": sum(is_verbatim(s, sources) for s in shown),
        "n_citations": len(citations),
        "citation_chars": sum(len(c.text) for c in citations),
        "citation_recall": citation_recall(citations, gold) if answerable else None,
        "citation_precision": citation_precision(citations, gold) if answerable else None,
        "retrieval_rank": rank,
        "latency_s": latency_s,
    }


# --- aggregation ----------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None``; ``None`` if there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def ratio(part: float, whole: float) -> float | None:
    """``part / whole``, or ``None`` when ``whole`` is 0."""
    return part / whole if whole else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation, as numpy's default."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def aggregate(scores: Sequence[Mapping[str, Any]]) -> Scores:
    """Overall metrics over per-item scores (see docs/eval.md)."""
    answerable = [s for s in scores if s["answerable"]]
    unanswerable = [s for s in scores if not s["answerable"]]
    abstained = [s for s in scores if s["abstained"]]
    ranks = [s["retrieval_rank"] for s in answerable if s["retrieval_rank"] is not None]
    result: Scores = {
        "items": len(scores),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": sum(bool(s["error"]) for s in scores),
    }
    for name in ANSWER_METRICS:
        result[name] = mean(s[name] for s in scores)
    result["quote_verbatim"] = ratio(
        sum(s["quotes_verbatim"] for s in scores), sum(s["quotes_checked"] for s in scores)
    )
    result["citation_recall"] = mean(s["citation_recall"] for s in scores)
    result["citation_precision"] = mean(s["citation_precision"] for s in scores)
    result["mean_quote_chars"] = ratio(
        sum(s["citation_chars"] for s in scores), sum(s["n_citations"] for s in scores)
    )
    for k in HIT_KS:
        result[f"hit@{k}"] = ratio(sum(0 < r <= k for r in ranks), len(ranks))
    result["mrr"] = ratio(sum(1 / r for r in ranks if r), len(ranks))
    result["abstain_recall"] = ratio(sum(s["abstained"] for s in unanswerable), len(unanswerable))
    result["abstain_precision"] = ratio(sum(not s["answerable"] for s in abstained), len(abstained))
    result["false_abstain_rate"] = ratio(sum(s["abstained"] for s in answerable), len(answerable))
    latencies = [s["latency_s"] for s in scores]
    result["latency_p50_s"] = percentile(latencies, 50)
    result["latency_p95_s"] = percentile(latencies, 95)
    return result


def aggregate_by_type(
    types: Sequence[str], scores: Sequence[Mapping[str, Any]]
) -> dict[str, Scores]:
    """:func:`aggregate` for each item type, types in sorted order."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for kind, s in zip(types, scores, strict=True):
        groups[kind].append(s)
    return {kind: aggregate(groups[kind]) for kind in sorted(groups)}
