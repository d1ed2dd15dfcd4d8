"""SQuAD v2.0 parity: the official evaluation script's input files and figures, from a run.

The official script (``evaluate-v2.0.py``) reads ``{qid: answer text}`` predictions and
``{qid: no-answer probability}``; :func:`squad_predictions` and :func:`na_probs` write them, and
:func:`squad_figures` computes its figures (as fractions, not percentages) with its rules: the
no-answer rule (no gold answer means gold ``[""]``), the HasAns/NoAns split, the no-answer
threshold and ``find_best_thresh``.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rag.eval.metrics import normalize_answer

NA_PROB_THRESH = 1.0  # the official script's default: an answer is never turned into ""
NA_PROB_RULE = (
    "1.0 for an abstention or an error; otherwise 1 - the best evidence similarity of the "
    "bot's search (its verdict's similarity, clamped to [0, 1])"
)

_OFFICIAL_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_MARKER = re.compile(r"[ \t]*\[\d+\]")

Normalize = Callable[[str], str]


def official_normalize(text: str) -> str:
    """The official script's ``normalize_answer``: lowercase, drop ASCII punctuation, drop the
    articles a/an/the, collapse whitespace."""
    text = "".join(c for c in text.lower() if c not in _OFFICIAL_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def clean_answer(text: str) -> str:
    """The answer as a reader sees it without citation markers: ``"x. [1]"`` -> ``"x."``."""
    return _MARKER.sub("", text).strip()


def squad_prediction(record: Mapping[str, Any]) -> str:
    """The official script's prediction text: ``""`` for an abstention or an error."""
    if record["abstained"] or record.get("error"):
        return ""
    return clean_answer(record["answer"])


def no_answer_prob(abstained: bool, error: bool, similarity: float | None) -> float:
    """The bot's no-answer score (see :data:`NA_PROB_RULE`); 0.0 without a similarity."""
    if abstained or error:
        return 1.0
    if similarity is None:
        return 0.0
    return round(min(1.0, max(0.0, 1.0 - similarity)), 6)


def na_prob(record: Mapping[str, Any]) -> float:
    """A record's no-answer score, also for records written before it was stored."""
    stored = record.get("no_answer_prob")
    if stored is not None:
        return float(stored)
    return no_answer_prob(bool(record["abstained"]), bool(record.get("error")), None)


def squad_predictions(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``squad_predictions.json``: ``{qid: answer text}``, ``""`` for no answer."""
    return {r["id"]: squad_prediction(r) for r in records}


def na_probs(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """``squad_na_probs.json``: ``{qid: no-answer probability}``."""
    return {r["id"]: na_prob(r) for r in records}


def golds_of(answers: Sequence[str], normalize: Normalize) -> list[str]:
    """The gold answers that survive normalisation, or ``[""]`` for a no-answer question."""
    return [a for a in answers if normalize(a)] or [""]


def exact(gold: str, prediction: str, normalize: Normalize) -> int:
    """1 if the normalised texts are equal."""
    return int(normalize(gold) == normalize(prediction))


def f1(gold: str, prediction: str, normalize: Normalize) -> float:
    """Token F1; with an empty side, 1 only if both are empty."""
    gold_tokens = normalize(gold).split() if gold else []
    pred_tokens = normalize(prediction).split() if prediction else []
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    same = sum((Counter(gold_tokens) & Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def apply_threshold(
    scores: Mapping[str, float],
    probs: Mapping[str, float],
    has_answer: Mapping[str, bool],
    thresh: float = NA_PROB_THRESH,
) -> dict[str, float]:
    """A question whose no-answer probability is above ``thresh`` counts as answered ``""``."""
    return {
        qid: float(not has_answer[qid]) if probs[qid] > thresh else score
        for qid, score in scores.items()
    }


def best_threshold(
    predictions: Mapping[str, str],
    scores: Mapping[str, float],
    probs: Mapping[str, float],
    has_answer: Mapping[str, bool],
) -> tuple[float, float]:
    """The official ``find_best_thresh``: the best score over no-answer thresholds, as a
    fraction, and the threshold reaching it (0.0 if none beats answering nothing)."""
    current = best = float(sum(not has for has in has_answer.values()))
    thresh = 0.0
    for qid in sorted(probs, key=lambda q: probs[q]):
        if qid not in scores:
            continue
        if has_answer[qid]:
            current += scores[qid]
        elif predictions[qid]:
            current -= 1
        if current > best:
            best, thresh = current, probs[qid]
    return best / len(scores), thresh


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def squad_figures(
    records: Sequence[Mapping[str, Any]], normalize: Normalize = official_normalize
) -> dict[str, Any]:
    """The official v2.0 figures over ``records`` (fractions in [0, 1]), with ``normalize``."""
    if not records:
        return {}
    predictions, probs = squad_predictions(records), na_probs(records)
    golds = {r["id"]: golds_of(r["gold_answers"], normalize) for r in records}
    has_answer = {qid: bool(g[0]) for qid, g in golds.items()}
    raw_exact = {q: max(exact(g, predictions[q], normalize) for g in golds[q]) for q in golds}
    raw_f1 = {q: max(f1(g, predictions[q], normalize) for g in golds[q]) for q in golds}
    exact_scores = apply_threshold(raw_exact, probs, has_answer)
    f1_scores = apply_threshold(raw_f1, probs, has_answer)
    figures: dict[str, Any] = {
        "exact": _mean(list(exact_scores.values())),
        "f1": _mean(list(f1_scores.values())),
        "total": len(records),
    }
    for name, wanted in (("HasAns", True), ("NoAns", False)):
        ids = [q for q in golds if has_answer[q] == wanted]
        figures[f"{name}_exact"] = _mean([exact_scores[q] for q in ids])
        figures[f"{name}_f1"] = _mean([f1_scores[q] for q in ids])
        figures[f"{name}_total"] = len(ids)
    for name, scores in (("exact", raw_exact), ("f1", raw_f1)):
        best, thresh = best_threshold(predictions, scores, probs, has_answer)
        figures[f"best_{name}"], figures[f"best_{name}_thresh"] = best, thresh
    return figures


def squad_report(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``report.json``'s ``squad_v2``: the figures with the official normalisation and ours."""
    return {
        "official": squad_figures(records, official_normalize),
        "ours": squad_figures(records, normalize_answer),
        "na_prob": NA_PROB_RULE,
    }
