"""Build the answer: numbered verbatim citations, and a short model answer checked against them."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rag.text import content_words, name_forms, stem, terms, words
from rag.types import Citation, Document, Evidence, Sentence

SYSTEM_PROMPT = (
    "You answer questions about a news article using only the numbered quotes given. "
    "Reply with one short sentence. Do not add facts that are not in the quotes. "
    "If the quotes do not answer the question, reply exactly: NOT IN ARTICLE."
)
NOT_IN_ARTICLE = re.compile(
    r"not\s+in\s+(?:the\s+)?article|does\s*n[o’']t\s+say|not\s+mentioned", re.I
)
ABSTAIN_TEXT = "The article doesn't say."
MAX_ANSWER_WORDS = 60


def verify_quote(citation: Citation | Sentence, documents: Mapping[str, Document]) -> None:
    """Raise ``AssertionError`` unless the quote is exactly the source text at its offsets."""
    text = citation.quote if isinstance(citation, Citation) else citation.text
    source = documents[citation.source].text
    if source[citation.start : citation.end] != text:
        raise AssertionError(f"quote is not verbatim at {citation.source}:{citation.start}")


def make_citations(
    sentences: list[tuple[Sentence, float]], documents: Mapping[str, Document]
) -> tuple[Citation, ...]:
    """Number sentences as citations in order, each checked as ``text[start:end]``."""
    citations = []
    for n, (s, score) in enumerate(sentences, start=1):
        c = Citation(n, s.text, s.source, s.start, s.end, s.paragraph, round(score, 4))
        verify_quote(c, documents)
        citations.append(c)
    return tuple(citations)


def build_messages(question: str, citations: tuple[Citation, ...]) -> list[dict[str, str]]:
    """Chat messages asking the model for a one-sentence answer from the quotes only."""
    quotes = "\n".join(f"[{c.n}] {c.quote}" for c in citations)
    user = f"Quotes:\n{quotes}\n\nQuestion: {question}\nAnswer in one sentence:"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# "The answer is", "Answer:", "The answer to this question is:" only introduce the answer.
_LEAD_IN = re.compile(
    r"^\s*(?:the\s+)?answer(?:\s+to\s+(?:this|the)\s+question)?\s*(?:is\b)?\s*:?\s*", re.I
)


def _first_line(reply: str) -> str:
    """The first line of a reply without a lead-in such as "The answer is": the part that is
    judged as the answer."""
    return _LEAD_IN.sub("", reply.lstrip().split("\n", 1)[0])


def clean_model_text(text: str) -> str:
    """The first line of the model's reply, without a lead-in such as "The answer is",
    citation markers or stray quotes."""
    first = re.sub(r"\s*\[\d+\]", "", _first_line(text))
    return first.strip().strip("\"'“”").strip()


def unsupported(answer: str, citations: tuple[Citation, ...]) -> list[str]:
    """Content terms and numbers of ``answer`` that no quote contains."""
    quote_text = " ".join(c.quote for c in citations)
    have_terms = set(terms(quote_text))
    have_numbers = {w for w in words(quote_text) if w[0].isdigit()}
    missing = [t for t in terms(answer) if t not in have_terms]
    missing += [w for w in words(answer) if w[0].isdigit() and w not in have_numbers]
    return sorted(set(missing))


# A word the model may still be writing: trailing letters, or a number that may go on.
_UNFINISHED = re.compile(r"(?:\d[\d,.]*|[^\W\d_][\w’'-]*)$")


def beyond_quotes(reply: str, citations: tuple[Citation, ...]) -> bool:
    """True as soon as the reply so far is sure to fail :func:`check_answer`: its first line
    says the quotes do not answer, or has a finished word or number that no quote holds.
    Generating the rest of such a reply is wasted time."""
    line = re.sub(r"\[\d+\]", " ", _first_line(reply))
    if NOT_IN_ARTICLE.search(line):
        return True
    return bool(unsupported(_UNFINISHED.sub("", line), citations))


# A reply that repeats this many words of a quote in order is the quote, not an answer to it.
COPY_WORDS = 10


def copies_quote(reply: str, citations: tuple[Citation, ...]) -> bool:
    """True when the reply's first line so far is the words of one quote, in order, for at
    least :data:`COPY_WORDS` words: the reader is better served by the quote itself."""
    line = words(_UNFINISHED.sub("", _first_line(reply)))
    if len(line) < COPY_WORDS:
        return False
    wanted = " ".join(line)
    return any(f" {wanted} " in f" {' '.join(words(c.quote))} " for c in citations)


def adds_to(answer: str, question: str) -> bool:
    """Whether ``answer`` has a content word the question lacks, by stem or as a demonym or
    country of one of its words ("China" only repeats "Chinese companies")."""
    asked = set(content_words(question))
    asked_terms = {stem(w) for w in asked}
    asked_forms = set().union(*(name_forms(w) for w in asked)) if asked else set()
    return any(
        stem(w) not in asked_terms and w not in asked_forms and name_forms(w).isdisjoint(asked)
        for w in content_words(answer)
    )


def check_answer(answer: str, question: str, citations: tuple[Citation, ...]) -> tuple[bool, str]:
    """Accept a model answer only if it is short, says something, and every content word and
    number in it stands in one quote: the one it will cite. Words gathered from two quotes can
    join facts the article never joined. Returns (accepted, reason)."""
    if not answer:
        return False, "empty"
    if NOT_IN_ARTICLE.search(answer):
        return False, "model said the quotes do not answer"
    if len(answer.split()) > MAX_ANSWER_WORDS:
        return False, "too long"
    missing = unsupported(answer, (best_citation(answer, citations),))
    if missing:
        return False, f"not in the quotes: {', '.join(missing)}"
    if not adds_to(answer, question):
        return False, "only repeats the question"
    return True, "supported"


def best_citation(answer: str, citations: tuple[Citation, ...]) -> Citation:
    """The citation sharing most content terms with ``answer`` (first on ties)."""
    answer_terms = set(terms(answer))
    return max(citations, key=lambda c: (len(answer_terms & set(terms(c.quote))), -c.n))


def with_marker(answer: str, citation: Citation) -> str:
    """``answer`` ending with its citation marker, e.g. ``… in 2019. [1]``."""
    return f"{answer.rstrip()} [{citation.n}]"


def extractive_answer(citations: tuple[Citation, ...]) -> str:
    """The best quote itself and the sentences naming its speaker, each marked; used when no
    model answer passes the check."""
    return " … ".join(with_marker(c.quote, c) for c in citations)


def abstain_text(reason: str) -> str:
    """What the bot says when the article does not answer."""
    return f"{ABSTAIN_TEXT} ({reason}.)" if reason else ABSTAIN_TEXT


def as_citations(
    evidence: list[Evidence], documents: Mapping[str, Document]
) -> tuple[Citation, ...]:
    """Evidence sentences as numbered citations."""
    return make_citations([(e.sentence, e.score) for e in evidence], documents)
