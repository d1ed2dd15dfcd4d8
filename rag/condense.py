"""Turn a follow-up question into a standalone retrieval query using the chat history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.nlp import parse
from rag.text import STOPWORDS

_REFERS_BACK = re.compile(
    r"\b(?:he|she|they|him|her|his|hers|them|their|theirs|it|its|this|that|these|those|"
    r"there|then|the same|the former|the latter)\b",
    re.IGNORECASE,
)


_NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:of\s+the\s+|of\s+|the\s+)?[A-Z][\w’'.-]*)*")
_QUESTION_WORDS = frozenset("who what when where which why how is are was were did does do".split())


def refers_back(question: str) -> bool:
    """True when the question leans on something said before (a pronoun or "that")."""
    return bool(_REFERS_BACK.search(question))


def names(text: str) -> list[str]:
    """Runs of capitalised words ("Vanda Felbab-Brown", "Select Committee"), minus a leading
    question word, in order of appearance."""
    found = []
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0].lower() in _QUESTION_WORDS | STOPWORDS:
            words = words[1:]
        if words:
            found.append(re.sub(r"[’']s$", "", " ".join(words)).rstrip("."))
    return list(dict.fromkeys(found))


_PERSONAL = re.compile(r"\b(?:he|she|they|him|them|it)\b|\bher\b(?!\s+[a-z])", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(?:his|its|their)\b|\bher\b(?=\s+[a-z])", re.IGNORECASE)


def resolve(question: str, referent: str) -> str:
    """``question`` with its first personal pronoun replaced by ``referent`` ("What did she
    say?" -> "What did Vanda Felbab-Brown say?"; "its chairman" -> "House Select Committee’s
    chairman"). Unchanged when it has no personal pronoun."""
    found = [(m, False) for m in [_PERSONAL.search(question)] if m]
    found += [(m, True) for m in [_POSSESSIVE.search(question)] if m]
    if not found:
        return question
    match, owns = min(found, key=lambda pair: pair[0].start())
    word = f"{referent}’s" if owns else referent
    return question[: match.start()] + word + question[match.end() :]


def elliptical(question: str) -> bool:
    """True when the question has no verb of its own ("And in 2019?", "What about Mexico?"):
    it can only be read with the question before it."""
    return not any(t.pos_ in ("VERB", "AUX") for t in parse(question))


def condense(question: str, history: Sequence[dict[str, Any]] | None) -> str:
    """The query to retrieve with: the question, with what it refers back to.

    A question without a verb follows the last question it continues. Otherwise what a
    follow-up refers to is taken as the names in the last exchange (the user's question
    first, then the bot's answer); without names, the last question itself. The first
    personal pronoun is replaced by the first name, so the query reads as the question a
    reader would ask on its own; with no personal pronoun to replace ("that report"), the
    names follow the question.
    """
    if not history:
        return question
    last_user = next((m for m in reversed(history) if m.get("role") == "user"), None)
    last_bot = next((m for m in reversed(history) if m.get("role") == "assistant"), None)
    if last_user is not None and elliptical(question):
        return f"{str(last_user.get('content', '')).strip()} {question}"
    if not refers_back(question):
        return question
    earlier = [str(m.get("content", "")) for m in (last_user, last_bot) if m]
    referents = [n for text in earlier for n in names(text) if n not in question]
    if not referents and earlier:
        return " ".join([question, earlier[0]])
    referents = list(dict.fromkeys(referents))[:3]
    resolved = resolve(question, referents[0])
    # Once the pronoun names its referent the query reads as a question of its own; other
    # names would only pull it towards the last answer.
    return resolved if resolved != question else " ".join([question, *referents])
