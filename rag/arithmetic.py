"""Differences between two dates: "How many years passed between X and Y?" is answered in code
from two quotes, one giving the year of each event, and both are cited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.nlp import parse
from rag.text import years
from rag.types import Sentence

# The closed-class words that relate two events in time.
_RELATIONS = frozenset({"after", "before", "since", "until"})
# An event is dated only by one of the sentences closest to it: a year further down belongs to
# something else.
EVENT_DEPTH = 3
_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()


@dataclass(frozen=True)
class Difference:
    """Years between two events, each with the sentence that dates it."""

    years: int
    earlier: Sentence
    earlier_year: int
    later: Sentence
    later_year: int

    @property
    def unit(self) -> str:
        return "year" if self.years == 1 else "years"

    def text(self) -> str:
        """``Two years``: the figure in words, as the article writes its numbers."""
        n = self.years
        words = _WORDS[n] if n < len(_WORDS) else str(n)
        return f"{words.capitalize()} {self.unit}"

    def working(self) -> str:
        """``2019 − 2017 = 2 years``: the sum, for the reader to check."""
        return f"{self.later_year} − {self.earlier_year} = {self.years} {self.unit}"


def _asked_at(question: str) -> int | None:
    """The index of the token after "how long" or "how many years" in ``question``'s parse,
    or None when it asks neither."""
    doc = parse(question)
    words = [t.lower_ for t in doc]
    for i, word in enumerate(words[:-1]):
        if word != "how":
            continue
        if words[i + 1] == "long":
            return i + 2
        if words[i + 1] == "many" and i + 2 < len(doc) and doc[i + 2].lemma_ == "year":
            return i + 3
    return None


def event_phrases(question: str) -> tuple[str, str] | None:
    """The two events a "how many years / how long" question compares, as phrases of the
    question: "between A and B", "after A did B" (also before, since, until), "from A to B",
    or "<verb> A from B" and "<verb> A and B" ("separated A from B"); None when it does not
    compare two events ("How long had it been since…" names one)."""
    at = _asked_at(question)
    if at is None:
        return None
    tokens = list(parse(question))[at:]
    words = [t.lower_ for t in tokens]
    if "between" in words:
        i = words.index("between")
        first, second = _split(tokens[i + 1 :], "and")
    elif any(w in _RELATIONS for w in words):
        i = next(i for i, w in enumerate(words) if w in _RELATIONS)
        # "after A did B": the inverted auxiliary ends the first event.
        rest = tokens[i + 1 :]
        cut = next((j for j, t in enumerate(rest) if _inverted(t)), len(rest))
        first, second = rest[:cut], rest[cut + 1 :]
    elif "from" in words and "to" in words[words.index("from") :]:
        i = words.index("from")
        first, second = _split(tokens[i + 1 :], "to")
    else:
        # "separated A from B", "separate A and B": the events follow the verb.
        verb = next((j for j, t in enumerate(tokens) if t.pos_ in ("VERB", "AUX")), None)
        if verb is None:
            return None
        rest = tokens[verb + 1 :]
        first, second = _split(rest, "from") if "from" in words else _split(rest, "and")
    phrases = (_phrase(first), _phrase(second))
    return phrases if all(phrases) else None


def _split(tokens: Sequence, word: str) -> tuple[Sequence, Sequence]:
    """``tokens`` before and after the first ``word`` (all and nothing when it is absent)."""
    cut = next((j for j, t in enumerate(tokens) if t.lower_ == word), None)
    return (tokens, []) if cut is None else (tokens[:cut], tokens[cut + 1 :])


def _inverted(token) -> bool:
    """Whether ``token`` is an auxiliary put before its subject ("did", "was", "had")."""
    return token.lemma_ in ("do", "be", "have") and token.tag_ in ("VBD", "VBZ", "VBP")


def _phrase(tokens: Sequence) -> str:
    """The words of ``tokens`` without punctuation; empty when none carries content."""
    if not any(t.pos_ in ("NOUN", "PROPN", "VERB", "NUM") for t in tokens):
        return ""
    words = [t for t in tokens if not t.is_punct]
    return words[0].doc.text[words[0].idx : words[-1].idx + len(words[-1])]


# Scores of phrases (rows) against sentences (columns, by id), such as the reader's cosine plus
# term coverage.
PhraseScores = Callable[[list[str], list[int]], np.ndarray]


def years_between(
    question: str, sentences: Sequence[Sentence], score: PhraseScores, min_score: float
) -> Difference | None:
    """The years between the two events ``question`` compares, each dated by the sentence that
    scores best for its phrase (at least ``min_score``); None when the question compares no two
    events, when an event's sentence names no year (the article does not date it), or when
    both fall in one year.
    """
    phrases = event_phrases(question)
    if phrases is None:
        return None
    candidates = [s for s in sentences if s.duplicate_of < 0]
    if len(candidates) < 2:
        return None
    sims = score(list(phrases), [s.id for s in candidates])
    picks: list[tuple[Sentence, int]] = []
    for phrase, row in zip(phrases, sims, strict=True):
        taken = {p.id for p, _ in picks}
        order = [j for j in np.argsort(-row) if candidates[j].id not in taken][:EVENT_DEPTH]
        named = years(phrase)
        dated = [
            (candidates[j], found[0])
            for j in order
            if row[j] >= min_score
            and (found := [y for y in years(candidates[j].text) if not named or y in named])
        ]
        if not dated:
            return None
        picks.append(dated[0])
    (a, ya), (b, yb) = sorted(picks, key=lambda p: p[1])
    if ya == yb:
        return None
    return Difference(yb - ya, a, ya, b, yb)
