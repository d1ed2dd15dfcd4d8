"""Pure functions that turn Answers and the article into HTML for the web chat.

Everything that comes from a question or a document goes through :func:`esc` first, so a
question or corpus text such as ``<img src=x onerror=...>`` is shown as text and never runs.
Every chat message is one line of block-level HTML: the chat's Markdown renderer passes such a
block through untouched, so quotes keep their exact characters. The chat's sanitizer keeps
``class``, ``title``, ``<details open>`` and ``href="#vq-N"`` but drops ``data-*`` attributes, so
chat links carry their target in ``href`` only; the article panel keeps everything.
"""

from __future__ import annotations

import dataclasses
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


def mark_key(n: int | str, turn: int | None = None, related: bool = False) -> str:
    """The id of a quote's mark without ``vq-``: ``2-1`` is quote [1] of answer 2, ``2-r1`` the
    first related passage of answer 2 (``1`` and ``r1`` without a ``turn``)."""
    return f"{turn}-" * (turn is not None) + "r" * related + str(n)


def _ref(n: int | str, turn: int | None, related: bool = False) -> str:
    """A ``[n]`` link to the quote's mark in the article; its title names the answer."""
    owner = f" of answer {turn}" if turn is not None else ""
    title = f"Show {'passage' if related else 'quote'} {n}{owner} in the article"
    return f'<a class="vq-ref" href="#vq-{mark_key(n, turn, related)}" title="{title}">[{n}]</a>'


def link_markers(escaped_text: str, numbers: Iterable[int | str], turn: int | None = None) -> str:
    """Turn ``[n]`` markers of known citations into links to the quote ``#vq-n`` (``#vq-T-n``
    for answer ``turn``, so every answer's markers lead to its own quotes)."""
    known = {str(n) for n in numbers}

    def link(match: re.Match[str]) -> str:
        n = match.group(1)
        if n not in known:
            return match.group(0)
        if turn is None:
            return f'<a class="vq-ref" href="#vq-{n}">[{n}]</a>'
        return _ref(n, turn)

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


def _quote_text(citation: Citation, span: AnswerQuote | None) -> str:
    """The escaped quote, the short answer's exact words in it bold."""
    a = span.start - citation.start if span is not None and span.n == citation.n else -1
    b = a + len(span.text) if span is not None else -1
    if not 0 <= a < b <= len(citation.quote) or citation.quote[a:b] != span.text:
        return esc(citation.quote)
    q = citation.quote
    return f'{esc(q[:a])}<strong class="vq-aq">{esc(q[a:b])}</strong>{esc(q[b:])}'


def _quote_block(
    citation: Citation,
    show_score: bool,
    prefix: str = "",
    turn: int | None = None,
    span: AnswerQuote | None = None,
) -> str:
    if turn is None:
        key = f"{prefix}{citation.n}"
        ref = f'<a class="vq-ref" href="#vq-{key}">[{citation.n}]</a>'
    else:
        ref = _ref(citation.n, turn, related=bool(prefix))
    return (
        f'<blockquote class="vq-src">{ref} '
        f'<span class="vq-text">{_quote_text(citation, span)}</span>'
        f'<span class="vq-where">{esc(where(citation, show_score))}</span>'
        "</blockquote>"
    )


def model_label(model: str) -> str:
    """A model's short name: ``SmolLM2-135M-Instruct.Q4_1`` is ``SmolLM2-135M``."""
    return re.split(r"[-.](?:instruct|chat|q\d)", model, maxsplit=1, flags=re.I)[0]


def what_happened(answer: Answer) -> str:
    """In words, how the answer was made: "answered from the quotes", "short answer by
    SmolLM2-135M", "the article doesn't say", "short answer cut from quote [1]", "computed
    from quotes [1] and [2]"."""
    mode = answer.mode.split(" (", 1)[0]
    if answer.abstained or mode == "abstain":
        return "the article doesn't say"
    if mode == "generated":
        return f"short answer by {model_label(answer.model)}" if answer.model else "short answer"
    if mode == "computed":
        working = answer.mode.partition(" (")[2].rstrip(")")
        return "computed from quotes [1] and [2]" + (f": {working}" if working else "")
    if mode == "short":
        n = answer.answer_quote.n if answer.answer_quote is not None else 1
        return f"short answer cut from quote [{n}]"
    return "answered from the quotes"


def timings_html(answer: Answer) -> str:
    """The small line under an answer: what happened and how long it took, in words; the
    detailed timings, the model and the mode are in its title."""
    t = answer.timings
    parts = [
        f"{label} {t[key]:.2f} s"
        for label, key in (("retrieve", "retrieve_s"), ("generate", "generate_s"))
        if key in t
    ]
    if "total_s" in t:
        parts.append(f"total {t['total_s']:.2f} s")
    if answer.abstained:  # no model wrote or scored anything: do not name one
        parts = [p for p in parts if not p.startswith("generate")]
    elif answer.model:
        parts.append(answer.model)
    if answer.mode:
        parts.append(answer.mode)
    line = what_happened(answer)
    if "total_s" in t:
        line += f" · {_seconds(t['total_s'])}"
    return f'<div class="va-timings" title="{esc(" · ".join(parts))}">{esc(line)}</div>'


def plain_text(answer: Answer | Mapping[str, Any]) -> str:
    """The answer and its quotes as plain text (what the copy button puts on the clipboard)."""
    a = answer_from_dict(answer)
    lines = [a.answer.strip()]
    quotes, title = (a.related, "Related passages") if a.abstained else (a.citations, "Sources")
    if quotes:
        lines += ["", f"{title}:"]
        lines += [f"[{c.n}] {c.quote} ({where(c)})" for c in quotes]
    return "\n".join(lines)


def _seconds(value: float) -> str:
    """``0.05 s``, ``0.9 s``, ``12.3 s``."""
    return f"{value:.2f} s" if value < 0.1 else f"{value:.1f} s"


def _answer_text(a: Answer, turn: int | None) -> str:
    """The answer with linked markers; a short answer (mode ``short``) in bold."""
    text = a.answer.strip()
    numbers = [c.n for c in a.citations]
    if a.mode == "short" and a.complete:
        words = _MARKER.sub("", text).strip()
        markers = link_markers(" ".join(m.group(0) for m in _MARKER.finditer(text)), numbers, turn)
        return f'<strong class="va-short">{_lines(words)}</strong> {markers}'.strip()
    return link_markers(_lines(text), numbers, turn)


def answer_html(
    answer: Answer | Mapping[str, Any],
    show_scores: bool = False,
    turn: int | None = None,
    stopped: bool = False,
) -> str:
    """One assistant message: the answer with linked markers, its quotes and a footer.

    Args:
        answer: The Answer (or its ``to_dict()``); partial answers show the quotes and a
            "writing" note instead of the answer and the footer: a model's draft may still be
            rejected by the quote check, so it is never shown as the answer.
        show_scores: Add each quote's retrieval score to where it stands.
        turn: The answer's number in the chat; its links then lead to ``#vq-<turn>-<n>``.
        stopped: The reader stopped this partial answer; say so instead of "writing".
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
                + "".join(_quote_block(c, show_scores, "r", turn) for c in a.related)
                + "</details>"
            )
        body.append(timings_html(a))
        return f'<div class="va va-abstain"{copy}>{"".join(body)}</div>'
    if a.complete and a.answer.strip():
        text = _answer_text(a, turn)
    elif stopped:
        text = '<span class="va-writing">Stopped before the answer was written.</span>'
    else:
        text = '<span class="va-writing">Writing the answer…</span>'
    body = [f'<div class="va-text">{text}</div>']
    if a.citations:
        body.append(
            '<details class="va-sources" open>'
            f"<summary>Sources ({len(a.citations)})</summary>"
            + "".join(_quote_block(c, show_scores, "", turn, a.answer_quote) for c in a.citations)
            + "</details>"
        )
    if a.complete:
        body.append(timings_html(a))
    elif stopped:
        body.append('<div class="va-timings">stopped · the quotes found so far</div>')
    state = "va-answer" if a.complete else "va-answer va-partial"
    if stopped and not a.complete:
        state = "va-answer va-stopped"
    return f'<div class="va {state}"{copy}>{"".join(body)}</div>'


Span = tuple[int, int, str, str]  # start, end, mark key, mark class


def _spans(
    text: str, citations: Sequence[Citation], source: str, turn: int | None, related: bool
) -> list[Span]:
    """Valid, non-overlapping (start, end, key, class) spans of ``source``, in text order."""
    spans: list[Span] = []
    last_end = -1
    kind = "vq-related" if related else "vq"
    for c in sorted((c for c in citations if c.source == source), key=lambda c: (c.start, c.end)):
        if not 0 <= c.start < c.end <= len(text):
            logger.warning("citation %s has offsets outside %s; not highlighted", c.n, source)
        elif text[c.start : c.end] != c.quote:
            logger.warning("citation %s is not verbatim in %s; not highlighted", c.n, source)
        elif c.start < last_end:
            logger.warning("citation %s overlaps an earlier one; not highlighted", c.n)
        else:
            spans.append((c.start, c.end, mark_key(c.n, turn, related), kind))
            last_end = c.end
    return spans


def _marked(text: str, a: int, b: int, inner: tuple[int, int] | None) -> str:
    """Escaped ``text[a:b]``, the part inside ``inner`` (the short answer) in bold."""
    if inner is None or inner[1] <= a or inner[0] >= b:
        return esc(text[a:b])
    i, j = max(inner[0], a), min(inner[1], b)
    return f'{esc(text[a:i])}<strong class="vq-aq">{esc(text[i:j])}</strong>{esc(text[j:b])}'


def _paragraph_html(
    text: str,
    start: int,
    end: int,
    spans: list[Span],
    opened: set[str],
    inner: tuple[int, int] | None = None,
) -> str:
    out: list[str] = []
    pos = start
    for s_start, s_end, key, kind in spans:
        a, b = max(s_start, start), min(s_end, end)
        if a >= b:
            continue
        out.append(esc(text[pos:a]))
        # A quote split over paragraphs keeps its id on the first piece only.
        ident = "" if key in opened else f' id="vq-{key}"'
        opened.add(key)
        number = key.rsplit("-", 1)[-1]
        out.append(
            f'<mark class="{kind}"{ident} data-vq="{key}" data-n="{number}">'
            f"{_marked(text, a, b, inner)}</mark>"
        )
        pos = b
    out.append(esc(text[pos:end]))
    return "".join(out)


def article_html(
    documents: Mapping[str, Any],
    citations: Sequence[Citation] = (),
    related: Sequence[Citation] = (),
    turn: int | None = None,
    answer_quote: AnswerQuote | None = None,
) -> str:
    """The documents as numbered paragraphs, quotes wrapped in ``<mark class="vq" id="vq-N">``.

    Args:
        documents: Source name to a Document (anything with ``.text``).
        citations: One answer's quotes, marked ``vq`` with ids ``vq-N``.
        related: An abstention's nearest passages, marked ``vq-related`` with ids ``vq-rN``.
        turn: The answer's number in the chat: ids become ``vq-<turn>-N`` and ``vq-<turn>-rN``.
        answer_quote: The short answer's words, bold inside their quote's mark.
    """
    # Focusable, so the panel can be scrolled from the keyboard.
    parts: list[str] = [
        '<div class="vq-article" tabindex="0" role="region" aria-label="The article">'
    ]
    for source, doc in documents.items():
        text = doc.text
        spans = _spans(text, citations, source, turn, False)
        spans += _spans(text, related, source, turn, True)
        spans.sort()
        # Cited quotes win over related ones if both were given and overlap.
        kept: list[Span] = []
        for span in spans:
            if kept and span[0] < kept[-1][1]:
                continue
            kept.append(span)
        inner = None
        aq = answer_quote
        if aq is not None and aq.source == source and text[aq.start : aq.end] == aq.text:
            inner = (aq.start, aq.end)
        paras = paragraphs(text)
        parts.append(
            f'<div class="vq-doc" data-source="{esc(source)}">'
            f'<div class="vq-doc-title">{esc(source)} · {len(paras)} paragraphs</div>'
        )
        opened: set[str] = set()
        for number, (p_start, p_end) in enumerate(paras, start=1):
            body = _paragraph_html(text, p_start, p_end, kept, opened, inner)
            parts.append(
                f'<p class="vq-p" data-p="{number}"><span class="vq-pn">{number}</span>{body}</p>'
            )
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def article_label_html(turn: int | None = None, question: str = "", related: bool = False) -> str:
    """The line above the article: whose quotes it highlights."""
    if turn is None:
        return (
            '<div id="vq-article-label"><strong>The article</strong> · an answer\'s quotes are '
            "<mark class='vq-legend'>highlighted</mark> here</div>"
        )
    what = "Passages close to answer" if related else "Quotes of answer"
    short = question if len(question) <= 80 else question[:79] + "…"
    return (
        f'<div id="vq-article-label" data-turn="{turn}"><strong>The article</strong> · '
        f"<mark class='vq-legend'>{what} {turn}</mark>: “{esc(short)}”</div>"
    )


# The closing lines about the writer: a social handle, or "<Name> is a … writer".
_HANDLE = re.compile(r"(?<![\w.])@[A-Za-z0-9_]{2,}\b")
_BIO = re.compile(
    r"^\W*(?P<name>[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+)+)\s+(?:is|was)\s+(?:an?|the)\s+"
    r"(?:[\w-]+\s+){0,4}"
    r"(?:writer|reporter|editor|journalist|correspondent|author|contributor|columnist|fellow)\b"
)
_NAME = re.compile(r"\b[A-Z][\w’'-]*[a-z][\w’'-]*")


def bio_ranges(text: str) -> list[tuple[int, int]]:
    """The (start, end) of the paragraphs at the end of ``text`` that are about the writer
    (a byline or bio: they carry a social handle or say "<Name> is a … writer")."""
    ranges: list[tuple[int, int]] = []
    for start, end in reversed(paragraphs(text)):
        para = text[start:end]
        if not (_HANDLE.search(para) or _BIO.search(para)):
            break
        ranges.append((start, end))
    return ranges


_NOT_NAMES = frozenset(
    "a an the in on at of to and or but for with by from as is was who what when where why "
    "how which whose did does do he she his her its it they their this that these those".split()
)


def writer_names(text: str, ranges: Sequence[tuple[int, int]]) -> set[str]:
    """The writer's names in the bio paragraphs ``ranges`` of ``text``, lower-cased: the words
    of "<Name> is a … writer" and each social handle without its ``@``."""
    names: set[str] = set()
    for start, end in ranges:
        para = text[start:end]
        bio = _BIO.search(para)
        if bio:
            names |= {w.strip(".").lower() for w in bio.group("name").split()}
        names |= {h[1:].lower() for h in _HANDLE.findall(para)}
    return names - {""}


def _names(text: str) -> set[str]:
    """Capitalised words of ``text`` (names and the like), lower-cased, without the words
    that are capitalised only for starting a sentence ("Who", "Her", "The")."""
    return {w.lower() for w in _NAME.findall(text)} - _NOT_NAMES


def supporting(answer: Answer, documents: Mapping[str, Any]) -> Answer:
    """``answer`` without the quotes that are only the writer's byline or bio.

    A citation after [1] is dropped when it stands in the closing byline/bio paragraphs
    (:func:`bio_ranges`), [1] does not (the answer is not about the writer), the answer text
    does not cite it, and it shares none of the writer's names (:func:`writer_names`) with the
    question or the answer. Other words it shares with them, such as a country the writer
    covers, do not keep it.
    """
    if answer.abstained or not answer.citations:
        return answer
    bios: dict[str, tuple[list[tuple[int, int]], set[str]]] = {}

    def bio(source: str) -> tuple[list[tuple[int, int]], set[str]]:
        """The bio paragraphs of ``source`` and the writer's names in them."""
        if source not in bios:
            doc = documents.get(source)
            text = doc.text if doc is not None else ""
            ranges = bio_ranges(text)
            bios[source] = ranges, writer_names(text, ranges)
        return bios[source]

    def in_bio(c: Citation) -> bool:
        return any(a <= c.start < b for a, b in bio(c.source)[0])

    first, *rest = answer.citations
    if in_bio(first):
        return answer
    cited = {int(n) for n in _MARKER.findall(answer.answer)}
    names = _names(answer.question) | _names(_MARKER.sub("", answer.answer))
    kept = [
        c
        for c in rest
        if c.n in cited or not in_bio(c) or names & _names(c.quote) & bio(c.source)[1]
    ]
    if len(kept) == len(rest):
        return answer
    return dataclasses.replace(answer, citations=(first, *kept))
