"""Pure functions that turn Answers and the article into HTML for the web chat.

Everything that comes from a question or a document goes through :func:`esc` first, so a
question or corpus text such as ``<img src=x onerror=...>`` is shown as text and never runs.
Every chat message is one line of block-level HTML: the chat's Markdown renderer passes such a
block through untouched, so quotes keep their exact characters. The chat's sanitizer keeps
``class``, ``title``, ``<details open>`` and ``href="#vq-N"`` but drops ``data-*`` attributes, so
chat links carry their target in ``href`` only; the article panel keeps everything.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from index.split import paragraphs
from rag.types import Answer, AnswerQuote, Citation

logger = logging.getLogger(__name__)

ABSTAIN_HEADING = "The article doesn't say"
_MARKER = re.compile(r"\[(\d+)\]")
_ABSTAIN_PREFIX = re.compile(r"^\s*the article doesn[’']t say\.?\s*", re.I)


def esc(text: Any) -> str:
    """``html.escape`` (quotes included), with ``$`` as an entity so no template or LaTeX
    renderer treats document text as code."""
    return html.escape(str(text), quote=True).replace("$", "&#36;")


def _attr(text: str) -> str:
    """Escaped text for an attribute value, line breaks as entities (the HTML stays one line)."""
    return esc(text).replace("\r", "&#13;").replace("\n", "&#10;")


def _lines(text: str) -> str:
    """Escaped text with line breaks as ``<br>``, so the message stays one HTML line."""
    return "<br>".join(esc(line) for line in text.splitlines() or [""])


def answer_from_dict(data: Answer | Mapping[str, Any]) -> Answer:
    """An Answer back from :meth:`Answer.to_dict` (an Answer is returned as is)."""
    if isinstance(data, Answer):
        return data
    return Answer(
        question=str(data.get("question", "")),
        answer=str(data.get("answer", "")),
        abstained=bool(data.get("abstained", False)),
        citations=tuple(Citation(**c) for c in data.get("citations", ())),
        related=tuple(Citation(**c) for c in data.get("related", ())),
        timings=dict(data.get("timings", {})),
        model=str(data.get("model", "")),
        mode=str(data.get("mode", "")),
        complete=bool(data.get("complete", True)),
        answer_quote=AnswerQuote(**data["answer_quote"]) if data.get("answer_quote") else None,
    )


def where(citation: Citation, show_score: bool = False) -> str:
    """Where a quote stands, e.g. ``paragraph 7 · chars 393–501 · score 0.61``."""
    parts = [f"paragraph {citation.paragraph}", f"chars {citation.start}–{citation.end}"]
    if show_score:
        parts.append(f"score {citation.score:.2f}")
    return " · ".join(parts)


def link_markers(escaped_text: str, numbers: Iterable[int | str]) -> str:
    """Turn ``[n]`` markers of known citations into links to the quote ``#vq-n``."""
    known = {str(n) for n in numbers}

    def link(match: re.Match[str]) -> str:
        n = match.group(1)
        if n not in known:
            return match.group(0)
        return f'<a class="vq-ref" href="#vq-{n}">[{n}]</a>'

    return _MARKER.sub(link, escaped_text)


def question_html(question: str) -> str:
    """The reader's question as escaped text."""
    return f'<div class="vq-question">{_lines(question)}</div>'


def pending_html(text: str = "Searching the article…") -> str:
    """Placeholder shown while the bot retrieves."""
    return f'<div class="va va-pending"><span class="va-writing">{esc(text)}</span></div>'


def status_html(text: str) -> str:
    """The loading line above the chat ("" once the models are ready)."""
    if not text:
        return ""
    return f'<p class="vq-status" role="status" aria-live="polite">{esc(text)}</p>'


def error_html(message: str) -> str:
    """A visible warning in the chat (bad question or a failure)."""
    return f'<div class="va va-error" role="alert">⚠️ {esc(message)}</div>'


def _quote_block(citation: Citation, show_score: bool, prefix: str = "") -> str:
    key = f"{prefix}{citation.n}"
    return (
        f'<blockquote class="vq-src">'
        f'<a class="vq-ref" href="#vq-{key}">[{citation.n}]</a> '
        f'<span class="vq-text">{esc(citation.quote)}</span>'
        f'<span class="vq-where">{esc(where(citation, show_score))}</span>'
        "</blockquote>"
    )


def timings_html(answer: Answer) -> str:
    """The small line under an answer: retrieve / generate / total seconds and the model."""
    t = answer.timings
    parts = [
        f"{label} {t[key]:.2f} s"
        for label, key in (("retrieve", "retrieve_s"), ("generate", "generate_s"))
        if key in t
    ]
    if "total_s" in t:
        parts.append(f"total {t['total_s']:.2f} s")
    if answer.model:
        parts.append(answer.model)
    mode = answer.mode.split(" (", 1)[0]
    if mode:
        parts.append(mode)
    return f'<div class="va-timings" title="{esc(answer.mode)}">{esc(" · ".join(parts))}</div>'


def plain_text(answer: Answer | Mapping[str, Any]) -> str:
    """The answer and its quotes as plain text (what the copy button puts on the clipboard)."""
    a = answer_from_dict(answer)
    lines = [a.answer.strip()]
    quotes, title = (a.related, "Related passages") if a.abstained else (a.citations, "Sources")
    if quotes:
        lines += ["", f"{title}:"]
        lines += [f"[{c.n}] {c.quote} ({where(c)})" for c in quotes]
    return "\n".join(lines)


def answer_html(answer: Answer | Mapping[str, Any], show_scores: bool = False) -> str:
    """One assistant message: the answer with linked markers, its quotes and timings.

    Args:
        answer: The Answer (or its ``to_dict()``); partial answers show the quotes and a
            "writing" note instead of timings.
        show_scores: Add each quote's retrieval score to where it stands.
    """
    a = answer_from_dict(answer)
    copy = f' data-copy="{_attr(plain_text(a))}"' if a.complete else ""
    if a.abstained:
        reason = _ABSTAIN_PREFIX.sub("", a.answer).strip().strip("()").strip()
        body = [f'<h4 class="va-heading">{esc(ABSTAIN_HEADING)}</h4>']
        if reason:
            body.append(f'<p class="va-reason">{esc(reason[:1].upper() + reason[1:])}</p>')
        if a.related:
            body.append(
                '<details class="va-related" open><summary>Related passages</summary>'
                '<p class="va-note">The closest passages; they do not answer the question.</p>'
                + "".join(_quote_block(c, show_scores, prefix="r") for c in a.related)
                + "</details>"
            )
        body.append(timings_html(a))
        return f'<div class="va va-abstain"{copy}>{"".join(body)}</div>'
    if a.answer.strip():
        text = link_markers(_lines(a.answer.strip()), (c.n for c in a.citations))
    else:
        text = '<span class="va-writing">Writing the answer…</span>'
    body = [f'<div class="va-text">{text}</div>']
    if a.citations:
        body.append(
            '<details class="va-sources" open>'
            f"<summary>Sources ({len(a.citations)})</summary>"
            + "".join(_quote_block(c, show_scores) for c in a.citations)
            + "</details>"
        )
    if a.complete:
        body.append(timings_html(a))
    state = "va-answer" if a.complete else "va-answer va-partial"
    return f'<div class="va {state}"{copy}>{"".join(body)}</div>'


def _spans(text: str, citations: Sequence[Citation], source: str, prefix: str) -> list[tuple]:
    """Valid, non-overlapping (start, end, key) spans of ``source``, in text order."""
    spans: list[tuple[int, int, str]] = []
    last_end = -1
    for c in sorted((c for c in citations if c.source == source), key=lambda c: (c.start, c.end)):
        if not 0 <= c.start < c.end <= len(text):
            logger.warning("citation %s has offsets outside %s; not highlighted", c.n, source)
        elif text[c.start : c.end] != c.quote:
            logger.warning("citation %s is not verbatim in %s; not highlighted", c.n, source)
        elif c.start < last_end:
            logger.warning("citation %s overlaps an earlier one; not highlighted", c.n)
        else:
            spans.append((c.start, c.end, f"{prefix}{c.n}"))
            last_end = c.end
    return spans


def _paragraph_html(text: str, start: int, end: int, spans: list[tuple], opened: set) -> str:
    out: list[str] = []
    pos = start
    for s_start, s_end, key in spans:
        a, b = max(s_start, start), min(s_end, end)
        if a >= b:
            continue
        out.append(esc(text[pos:a]))
        kind = "vq-related" if key.startswith("r") else "vq"
        # A quote split over paragraphs keeps its id on the first piece only.
        ident = "" if key in opened else f' id="vq-{key}"'
        opened.add(key)
        out.append(f'<mark class="{kind}"{ident} data-vq="{key}">{esc(text[a:b])}</mark>')
        pos = b
    out.append(esc(text[pos:end]))
    return "".join(out)


def article_html(
    documents: Mapping[str, Any],
    citations: Sequence[Citation] = (),
    related: Sequence[Citation] = (),
) -> str:
    """The documents as numbered paragraphs, quotes wrapped in ``<mark class="vq" id="vq-N">``.

    Args:
        documents: Source name to a Document (anything with ``.text``).
        citations: The last answer's quotes, marked ``vq`` with ids ``vq-N``.
        related: An abstention's nearest passages, marked ``vq-related`` with ids ``vq-rN``.
    """
    parts: list[str] = ['<div class="vq-article">']
    for source, doc in documents.items():
        text = doc.text
        spans = _spans(text, citations, source, "") + _spans(text, related, source, "r")
        spans.sort()
        # Cited quotes win over related ones if both were given and overlap.
        kept: list[tuple[int, int, str]] = []
        for span in spans:
            if kept and span[0] < kept[-1][1]:
                continue
            kept.append(span)
        paras = paragraphs(text)
        parts.append(
            f'<div class="vq-doc" data-source="{esc(source)}">'
            f'<div class="vq-doc-title">{esc(source)} · {len(paras)} paragraphs</div>'
        )
        opened: set[str] = set()
        for number, (p_start, p_end) in enumerate(paras, start=1):
            body = _paragraph_html(text, p_start, p_end, kept, opened)
            parts.append(
                f'<p class="vq-p" data-p="{number}"><span class="vq-pn">{number}</span>{body}</p>'
            )
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)
