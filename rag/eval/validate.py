"""Check a test set against the corpus before a run, and choose the items to run.

Every problem is collected, not just the first: items that could not be read, repeated ids,
gold quotes or SQuAD contexts not in the corpus, and ``answer_start`` offsets that do not point
at their answer. See "Test-set validation" in docs/eval.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from rag.eval.formats import EvalItem, Problem, TestSet
from rag.eval.metrics import normalize_answer

logger = logging.getLogger(__name__)

MAX_SHOWN_CHARS = 80


@dataclass(frozen=True)
class Corpus:
    """The corpus texts, exact and normalised, to look quotes up in."""

    texts: tuple[str, ...]
    normalized: str

    @classmethod
    def of(cls, texts: Sequence[str]) -> Corpus:
        return cls(tuple(texts), " " + " ".join(normalize_answer(t) for t in texts) + " ")

    def has(self, quote: str) -> bool:
        """Whether ``quote`` is in the corpus verbatim, or as whole tokens once normalised
        (the rule citation overlap uses, so such a quote can still be matched)."""
        if any(quote in text for text in self.texts):
            return True
        normalized = normalize_answer(quote)
        return bool(normalized) and f" {normalized} " in self.normalized


@dataclass(frozen=True)
class Selection:
    """The items to run, every problem found, and the ids left out because of one."""

    items: tuple[EvalItem, ...]
    problems: tuple[Problem, ...]
    skipped: tuple[str, ...] = ()


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"


def corpus_problems(
    test_set: TestSet, items: Sequence[EvalItem], corpus: Corpus
) -> tuple[Problem, ...]:
    """A problem for each gold quote of ``items`` and each SQuAD context not in ``corpus``."""
    where = dict(test_set.where)
    ids = {item.id for item in items}
    problems = []
    for item in items:
        for quote in item.gold_quotes:
            if not corpus.has(quote):
                problems.append(
                    Problem(
                        f"{where.get(item.id, item.id)}: gold quote {_short(quote)!r} is not in "
                        "the corpus, so citation and retrieval cannot match it",
                        (item.id,),
                    )
                )
    for context in test_set.contexts:
        kept = tuple(i for i in context.ids if i in ids)
        if kept and not corpus.has(context.text.strip()):
            problems.append(
                Problem(
                    f"{context.where}: the context {_short(context.text)!r} is not in the "
                    "corpus; index it with --corpus",
                    kept,
                )
            )
    return tuple(problems)


def select_items(
    test_set: TestSet,
    items: Sequence[EvalItem],
    corpus: Corpus,
    strict: bool = False,
    skip_invalid: bool = False,
) -> Selection:
    """The items to run, after checking the test set against the corpus.

    Args:
        items: The items asked for (``--limit`` applied).
        strict: Refuse a test set with any problem.
        skip_invalid: Leave out every item with a problem and run the rest.

    Raises:
        ValueError: ``strict`` and a problem, or a malformed item without ``skip_invalid``;
            the message lists every problem.
    """
    ids = {item.id for item in items}
    problems = tuple(
        p for p in test_set.problems if p.malformed or any(i in ids for i in p.ids)
    ) + corpus_problems(test_set, items, corpus)
    if problems and strict:
        raise ValueError(problem_list(problems, "--strict refuses a test set with problems"))
    if any(p.malformed for p in problems) and not skip_invalid:
        raise ValueError(
            problem_list(
                problems,
                "some items could not be read; fix them, or add --skip-invalid to run the others",
            )
        )
    if not skip_invalid:
        return Selection(tuple(items), problems)
    bad = {i for p in problems for i in p.ids}
    kept = tuple(item for item in items if item.id not in bad)
    if not kept:
        raise ValueError(problem_list(problems, "no valid item is left to run"))
    return Selection(kept, problems, tuple(item.id for item in items if item.id in bad))


def problem_list(problems: Sequence[Problem], headline: str) -> str:
    """``problems`` as one message: a count and headline, then one problem per line."""
    lines = [f"{len(problems)} problem(s) in the test set: {headline}"]
    lines.extend(f"  - {p.text}" for p in problems)
    return "\n".join(lines)
