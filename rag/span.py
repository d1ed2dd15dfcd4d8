"""The short answer: the words of the quote that answer, when the question asks for a kind of
thing (a number, a date, a place, a name). A quote that names one such thing gives it; a quote
that names several gives the one a fitted score prefers, when it leads by a clear margin."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from rag.nlp import NAME_LABELS, PERSON, PLACE, WH_TAGS, asked_entities, label, parse
from rag.types import AnswerQuote, Citation

# Scores answers to a question asked of a quote: (question, quote, answers) -> one per answer.
AnswerScorer = Callable[[str, str, list[str]], list[float]]
# How rarely the corpus names a text (its mean term IDF): the subject an article keeps naming
# is seldom the answer.
Rarity = Callable[[str], float]

# The entity picker: a logistic fit (benchmarks/fit_span.py) on the dev set's answerable items
# whose quote names several entities of the asked kind. Features, each against the best
# candidate of the quote: the model's log-probability of the entity as the reply, its distance
# in the parse from the nearest word the question uses, whether its label is the kind's first
# one (a person for "who", a place for "where"), and how rarely the corpus names it.
PICK_WEIGHTS = (0.883, -0.779, 1.136, 1.789)
PICK_BIAS = 1.936
# The picked entity must lead the next by this much probability, else the whole quote stays
# the answer. Chosen on dev (33 items): leave-one-out picks at 0.3 are right 27 times in 28.
# Above the highest margin of an error (0.52) they are right 18 in 18, but dev then gives up
# nine exact answers to keep one gold answer (docs/abstention.md).
PICK_MARGIN = 0.3
# Parse distances beyond this count as this (unrelated).
FAR = 8
_FIRST_LABELS = {PERSON: {"PERSON"}, PLACE: {"GPE", "LOC", "FAC"}}


def candidates(question: str, kind: frozenset[str], quote: str) -> list[Any]:
    """The entities of ``kind`` in ``quote`` that the question does not give, one per text."""
    found: dict[str, Any] = {}
    for entity in asked_entities(question, kind, quote):
        found.setdefault(entity.text, entity)
    return list(found.values())


def _quote(citation: Citation, words: Any) -> AnswerQuote:
    """``words`` (an entity or a clause of ``citation``'s parsed quote), with their offsets in
    the source."""
    start = citation.start + words.start_char
    return AnswerQuote(citation.n, citation.source, start, start + len(words.text), words.text)


def question_lemmas(question: str) -> set[str]:
    """Lemmas of the question's content words (no stop words, wh-words or punctuation)."""
    return {
        t.lemma_.lower()
        for t in parse(question)
        if not (t.is_stop or t.is_punct or t.tag_ in WH_TAGS)
    }


def parse_distance(entity: Any, lemmas: set[str]) -> int:
    """Edges in the parse from ``entity``'s head word to the nearest word with one of
    ``lemmas``, at most :data:`FAR`."""
    up = [entity.root, *entity.root.ancestors]
    best = FAR
    for token in entity.doc:
        if token.lemma_.lower() in lemmas and token not in entity:
            chain = [token, *token.ancestors]
            common = next((t for t in up if t in chain), None)
            if common is not None:
                best = min(best, up.index(common) + chain.index(common))
    return best


def pick_features(
    question: str,
    kind: frozenset[str],
    entities: list[Any],
    likelihoods: list[float],
    rarities: list[float] | None = None,
) -> list[tuple[float, ...]]:
    """The picker's features of each entity, each relative to the quote's best (``rarities``
    missing count as equal)."""
    lemmas = question_lemmas(question)
    distances = [parse_distance(e, lemmas) for e in entities]
    first = _FIRST_LABELS.get(kind)
    rare = rarities if rarities is not None else [0.0] * len(entities)
    top, near, rarest = max(likelihoods), min(distances), max(rare)
    return [
        (lik - top, float(d - near), float(first is None or label(e) in first), r - rarest)
        for e, lik, d, r in zip(entities, likelihoods, distances, rare, strict=True)
    ]


def pick_probabilities(features: list[tuple[float, ...]]) -> list[float]:
    """The fitted probability that each entity is the answer."""
    return [
        1 / (1 + math.exp(-(PICK_BIAS + sum(w * x for w, x in zip(PICK_WEIGHTS, f, strict=True)))))
        for f in features
    ]


def pick(probabilities: list[float]) -> int | None:
    """Index of the likeliest entity when it leads the next by :data:`PICK_MARGIN`, else None."""
    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    second = probabilities[order[1]] if len(order) > 1 else 0.0
    return order[0] if probabilities[order[0]] - second >= PICK_MARGIN else None


def short_answer(
    question: str,
    kind: frozenset[str] | None,
    citation: Citation,
    scorer: AnswerScorer | None = None,
    rarity: Rarity | None = None,
) -> AnswerQuote | None:
    """The entity of ``kind`` in the cited quote that answers, with its offsets in the source:
    the only one the question does not already give or, given ``scorer`` (and ``rarity``), the
    one the picker prefers by :data:`PICK_MARGIN`. None when the question asks for no kind, or
    no entity is clear (the whole quote then stays the answer).
    """
    if kind is None:
        return None
    entities = candidates(question, kind, citation.quote)
    if len(entities) > 1 and scorer is not None:
        texts = [e.text for e in entities]
        likelihoods = scorer(question, citation.quote, texts)
        rarities = [rarity(t) for t in texts] if rarity is not None else None
        features = pick_features(question, kind, entities, likelihoods, rarities)
        chosen = pick(pick_probabilities(features))
        entities = [entities[chosen]] if chosen is not None else entities
    if len(entities) != 1:
        return None
    return _quote(citation, entities[0])


# Determiners that make a date point back at one given before ("that same year").
_POINTING = frozenset({"that", "same", "following", "next"})


def points_back(question: str, kind: frozenset[str] | None, text: str) -> bool:
    """Whether the only dates ``text`` gives for a when-question point back at an earlier one
    ("That same year, …"), so the year is in the sentence before."""
    if kind is None or "DATE" not in kind:
        return False
    dates = asked_entities(question, kind, text)
    return bool(dates) and all(
        not any(c.isdigit() for c in e.text)
        and any(t.lower_ in _POINTING for t in e)
        and any(t.lemma_.lower() == "year" for t in e)
        for e in dates
    )


def full_name(span: AnswerQuote, citations: Sequence[Citation]) -> AnswerQuote:
    """``span``'s person under the fullest name the ``citations`` give ("Regina LaBelle" for
    "LaBelle"), with its offsets; ``span`` itself when none gives more."""
    for citation in citations:
        for entity in parse(citation.quote).ents:
            if entity.label_ == "PERSON" and entity.text.endswith(" " + span.text):
                return _quote(citation, entity)
    return span


# What opens a reason or a purpose: a clause ("because…", "so that…") or a phrase ("because
# of…", "due to…", "in exchange for…", "in order to…"). Longest first. "As" and "since" also
# open clauses of time ("as overdoses reached new highs"), so they are left out.
_REASON_OPENERS = (
    ("in", "exchange", "for"),
    ("in", "order", "to"),
    ("because", "of"),
    ("due", "to"),
    ("so", "that"),
    ("because",),
)


def reason_clauses(doc: Any) -> list[Any]:
    """The reason and purpose clauses and phrases of ``doc``, each from its opening word to
    the end of what that word governs ("because many precursors are not controlled")."""
    found = []
    for token in doc:
        for opener in _REASON_OPENERS:
            if tuple(t.lower_ for t in doc[token.i : token.i + len(opener)]) != opener:
                continue
            if len(opener) == 1 and not (token.dep_ == "mark" and token.head.dep_ == "advcl"):
                break
            governor = token.head if token.dep_ == "mark" else token
            end = max(t.i for t in governor.subtree)
            while end > token.i and doc[end].is_punct:
                end -= 1
            if end >= token.i + len(opener):
                found.append(doc[token.i : end + 1])
            break
    return found


def reason_answer(question: str, citations: Sequence[Citation]) -> AnswerQuote | None:
    """The reason clause of the ``citations`` that shares the least with ``question`` (the
    reason, not the restated question: "Why are precursors not controlled?" gets "as they
    are also required for…", not "because many precursors are not…"), with its offsets;
    None when no quote gives one."""
    lemmas = question_lemmas(question)
    best: tuple[float, Citation, Any] | None = None
    for citation in citations:
        for clause in reason_clauses(parse(citation.quote)):
            words = [t for t in clause if not (t.is_stop or t.is_punct)]
            if len(words) < 2:
                continue
            shared = sum(t.lemma_.lower() in lemmas for t in words) / len(words)
            if best is None or shared < best[0]:
                best = (shared, citation, clause)
    return None if best is None else _quote(best[1], best[2])


def named_instance(question: str, noun: str, citation: Citation) -> AnswerQuote | None:
    """The one name in the cited quote that has the asked ``noun`` in it ("Which ministry…"
    gets "the Ministry of Public Security"), cut at a possessive ("the Ministry of Public
    Security’s Institute…"), with its offsets; None when no name, or several, have it."""
    found = {}
    for entity in asked_entities(question, NAME_LABELS, citation.quote):
        for part in _owner_parts(entity):
            if any(t.lemma_.lower() == noun for t in part):
                found.setdefault(part.text, part)
    if len(found) != 1:
        return None
    return _quote(citation, next(iter(found.values())))


def _owner_parts(entity: Any) -> list[Any]:
    """``entity`` cut at its possessives: "the Ministry’s Institute" -> "the Ministry",
    "Institute"."""
    parts, start = [], entity.start
    for token in entity:
        if token.tag_ == "POS":
            parts.append(entity.doc[start : token.i])
            start = token.i + 1
    parts.append(entity.doc[start : entity.end])
    return [p for p in parts if len(p)]
