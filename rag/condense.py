"""Turn a follow-up question into a standalone retrieval query using the chat history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_REFERS_BACK = re.compile(
    r"\b(?:he|she|they|him|her|his|hers|them|their|theirs|it|its|this|that|these|those|"
    r"there|then|the same|the former|the latter)\b",
    re.IGNORECASE,
)


def refers_back(question: str) -> bool:
    """True when the question leans on something said before (a pronoun or "that")."""
    return bool(_REFERS_BACK.search(question))


def condense(question: str, history: Sequence[dict[str, Any]] | None) -> str:
    """The query to retrieve with: the question, plus the last exchange if it refers back."""
    if not history or not refers_back(question):
        return question
    last_user = next((m for m in reversed(history) if m.get("role") == "user"), None)
    last_bot = next((m for m in reversed(history) if m.get("role") == "assistant"), None)
    parts = [question]
    if last_user:
        parts.append(str(last_user.get("content", "")))
    if last_bot:
        parts.append(str(last_bot.get("content", ""))[:300])
    return " ".join(p.strip() for p in parts if p and p.strip())


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
