"""The question apart from its noise: invisible characters, markup, preambles and instructions."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rag.nlp import parse

# Terminal colour codes; C0/C1 controls (but tab and newline) become spaces.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# Script and style blocks with their content, then any other tag or HTML comment.
_CODE_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.I | re.S)
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.S)
# "Question:", "User question -", "### END ###": a short label that only introduces the text.
_LABEL = re.compile(r"^\W*(?:[A-Za-z]+[ \t]+){0,3}[A-Za-z]+\s*(?:[:>#]+|-{2,}|={2,})\s+(?=\w)")
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:rules?|instructions?|"
    r"prompt|article|above|previous|guidelines?)\b|\b(?:you are now|pretend|act as|"
    r"respond with|reply with|answer with|say that|just say|system prompt|system override|"
    r"unrestricted mode|jailbreak|developer mode)\b",
    re.IGNORECASE,
)


def _is_invisible(char: str) -> bool:
    """Format characters (zero-width spaces and joiners, soft hyphens, direction marks) and
    lone surrogates: they are never part of a word a reader meant to type."""
    return unicodedata.category(char) in ("Cf", "Cs")


def clean_question(question: Any, max_chars: int) -> str:
    """The question as text: invisible characters removed (so "Ch\u200bina" is "China"),
    controls and markup turned to spaces, checked for length.

    Raises:
        ValueError: not text, empty, or longer than ``max_chars``; the message says what to do.
    """
    if not isinstance(question, str):
        raise ValueError("The question must be text.")
    text = "".join(c for c in _ANSI.sub(" ", question) if not _is_invisible(c))
    text = _CONTROL.sub(" ", text)
    text = _TAG.sub(" ", _CODE_BLOCK.sub(" ", text))
    text = re.sub(r"[ \t]+", " ", text).strip()
    if not text:
        raise ValueError("Please type a question about the article.")
    if len(text) > max_chars:
        raise ValueError(
            f"Your question is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it."
        )
    return text


def sentences(text: str) -> list[str]:
    """``text`` cut into lines, sentences (by spaCy's parser, so "U.S." does not end one) and
    the parts around a colon ("…tell me: who chairs it?"), each stripped, none altered."""
    parts = []
    for line in text.splitlines():
        for sent in parse(line).sents if line.strip() else ():
            parts += [p.strip() for p in re.split(r"(?<=:)\s+", sent.text)]
    return [p for p in parts if p]


def is_instruction(sentence: str) -> bool:
    """Whether ``sentence`` tries to instruct the bot ("ignore your rules…"). Such text is
    never obeyed, and dropping it keeps it from steering retrieval."""
    return bool(_INSTRUCTION.search(sentence))


def focus(question: str) -> str:
    """The part of ``question`` that asks: its questions (sentences ending in "?"), without
    instructions and labels such as "Question:". A question without "?" is kept whole, less
    its instructions. If nothing is left, the question is returned unchanged.
    """
    kept = [s for s in sentences(question) if not is_instruction(s)]
    asking = [s for s in kept if s.endswith("?")]
    parts = [_LABEL.sub("", s) for s in (asking or kept)]
    return " ".join(p for p in parts if p) or question
