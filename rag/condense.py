"""Turn a follow-up question into a standalone retrieval query using the chat history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.text import STOPWORDS

_REFERS_BACK = re.compile(
    r"\b(?:he|she|they|him|her|his|hers|them|their|theirs|it|its|this|that|these|those|"
    r"there|then|the same|the former|the latter)\b",
    re.IGNORECASE,
)


_NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:of\s+the\s+|of\s+|the\s+)?[A-Z][\w’'.-]*)*")
_QUESTION_WORDS = frozenset("who what when where which why how is are was were did does do".split())


def question_names(question: str) -> list[str]:
    """The names a question gives: :func:`names`, less a lone capitalised first word, which
    may only be starting the sentence ("Summarise …", "Beijing?" is kept only mid-question)."""
    start = question.lstrip()
    return [n for n in names(question) if " " in n or not start.startswith(n)]


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


def condense(question: str, history: Sequence[dict[str, Any]] | None) -> str:
    """The query to retrieve with: the question, with what it refers back to.

    What a follow-up refers to is taken as the names in the last exchange (the user's question
    first); without names, the last question itself. The first personal pronoun is replaced
    by the first name, so the query reads as the question a reader would ask on its own; the
    other names follow it.
    """
    if not history or not refers_back(question):
        return question
    last_user = next((m for m in reversed(history) if m.get("role") == "user"), None)
    last_bot = next((m for m in reversed(history) if m.get("role") == "assistant"), None)
    earlier = [str(m.get("content", "")) for m in (last_user, last_bot) if m]
    referents = [n for text in earlier for n in names(text) if n not in question]
    if not referents and earlier:
        return " ".join([question, earlier[0]])
    referents = list(dict.fromkeys(referents))[:3]
    resolved = resolve(question, referents[0])
    rest = referents[1:] if resolved != question else referents
    return " ".join([resolved, *rest])


_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:rules?|instructions?|"
    r"prompt|article|above|previous|guidelines?)\b|\b(?:you are now|pretend|act as|"
    r"respond with|reply with|answer with|say that|just say|system prompt|system override|"
    r"unrestricted mode|jailbreak|developer mode)\b",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"[^.!?:;]+[.!?:;]*")


def strip_instructions(question: str) -> str:
    """The question without sentences that try to instruct the bot ("ignore your rules…").

    Such text is never obeyed; dropping it keeps it from steering retrieval. If every
    sentence looks like an instruction, the question is returned unchanged.
    """
    kept = [s for s in _SENTENCES.findall(question) if s.strip() and not _INSTRUCTION.search(s)]
    return " ".join(s.strip().strip(":;").strip() for s in kept) if kept else question
