"""Find paragraphs and sentences with exact character offsets, and mark repeated pull quotes."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable

from rag.types import Document, Sentence

# Words that end in a period without ending a sentence.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof rep reps sen gov gen lt col capt sgt st jr sr inc co corp ltd llc vs etc
    e.g i.e no nos vol fig jan feb mar apr jun jul aug sep sept oct nov dec mt ft dept univ assn
    bros est approx pres rev hon sen sens""".split()
)
# After a dotted acronym ("U.S."), these words usually open a new sentence.
SENTENCE_STARTERS = frozenset(
    """the a an but and so yet in on at this that these those it its he she they we i there here
    however meanwhile still then while when after before if as for""".split()
)
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_PARAGRAPH_BLANK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_WORD_BEFORE = re.compile(r"(\S+)$")
_NEXT_WORD = re.compile(r"\s*(\S*)")
_NORMALISE = re.compile(r"[^0-9a-z]+")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: blank-line separated if the text has blank lines, else one per line."""
    splitter = _PARAGRAPH_BLANK if _PARAGRAPH_BLANK.search(text) else re.compile(r"\n+")
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in splitter.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    return [s for s in (_strip_span(text, a, b) for a, b in spans) if s[1] > s[0]]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_boundary(text: str, start: int, punct_start: int, after: int) -> bool:
    word = _WORD_BEFORE.search(text, start, punct_start + 1)
    token = word.group(1) if word else ""
    core = token.lstrip("(\"'“‘[").rstrip(".").lower()
    # Matched in place: slicing ``text[after:]`` copied the rest of the document per candidate.
    next_word = _NEXT_WORD.match(text, after).group(1)
    # A lowercase continuation ("e.g. the …") never starts a new sentence.
    if next_word[:1].islower():
        return False
    if text[punct_start] != ".":
        return True
    if core in ABBREVIATIONS or (len(core) == 1 and core.isalpha()):
        return False
    # Dotted acronyms such as "U.S." end a sentence only before a typical sentence opener.
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", core):
        return next_word.strip("“\"'‘").lower() in SENTENCE_STARTERS
    return True


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``; every span is stripped and non-empty."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _BOUNDARY.finditer(text, start, end):
        if match.end() >= end:
            break
        if _is_boundary(text, pos, match.start(), match.end()):
            spans.append(_strip_span(text, pos, match.end()))
            pos = match.end()
    spans.append(_strip_span(text, pos, end))
    return [s for s in spans if s[1] > s[0]]


def normalise(text: str) -> str:
    """Lowercase alphanumeric words only, for comparing repeated text."""
    folded = unicodedata.normalize("NFKD", text).lower()
    return _NORMALISE.sub(" ", folded).strip()


def split_document(
    doc: Document, first_id: int = 0, on_paragraph: Callable[[int], object] | None = None
) -> list[Sentence]:
    """Split a document into sentences with offsets and 1-based paragraph numbers.

    ``on_paragraph`` is told how many characters each paragraph advanced (a progress bar).
    """
    sentences: list[Sentence] = []
    done = 0
    for number, (p_start, p_end) in enumerate(paragraphs(doc.text), start=1):
        if on_paragraph is not None:
            on_paragraph(p_end - done)
            done = p_end
        for s_start, s_end in sentence_spans(doc.text, p_start, p_end):
            sentences.append(
                Sentence(
                    id=first_id + len(sentences),
                    source=doc.source,
                    start=s_start,
                    end=s_end,
                    paragraph=number,
                    text=doc.text[s_start:s_end],
                )
            )
    return sentences


def mark_duplicates(sentences: list[Sentence], min_words: int = 4) -> list[Sentence]:
    """Mark sentences whose words repeat a sentence of another, longer paragraph.

    A pull quote, or the attribution line printed under it, repeats words of the article's
    body; the copy in the shorter paragraph gets ``duplicate_of`` set to the body sentence:
    the first (lowest id) sentence of the same source, in another paragraph that is longer (or
    as long and earlier), whose normalised words contain the copy's as a run.

    Near-linear: each distinct normalised text finds the texts containing it once, through the
    postings of its rarest word; each copy then picks its body sentence by binary search.
    """
    norms = [normalise(s.text) for s in sentences]
    para_len: dict[tuple[str, int], int] = {}
    for s in sentences:
        key = (s.source, s.paragraph)
        para_len[key] = para_len.get(key, 0) + len(s.text)
    lengths = [para_len[(s.source, s.paragraph)] for s in sentences]
    positions: dict[str, list[int]] = {}  # normalised text -> positions holding it, ascending
    for i, norm in enumerate(norms):
        positions.setdefault(norm, []).append(i)
    distinct = list(positions)
    padded = [f" {norm} " for norm in distinct]
    holders: dict[str, list[int]] = {}  # word -> distinct texts holding it
    for d, norm in enumerate(distinct):
        for word in set(norm.split()):
            holders.setdefault(word, []).append(d)
    best = [-1] * len(sentences)
    for d, norm in enumerate(distinct):
        words = norm.split()
        if len(words) < min_words:
            continue
        # Only a text holding every word of ``norm`` can contain it: its rarest word is enough.
        rarest = min(words, key=lambda w: len(holders[w])) if words else None
        others = holders[rarest] if rarest is not None else range(len(distinct))
        containing = [positions[distinct[o]] for o in others if padded[d] in padded[o]]
        bodies = _Bodies(sentences, lengths, [i for group in containing for i in group])
        for i in positions[norm]:
            best[i] = bodies.first_for(i)
    return [
        s if b < 0 else _with_duplicate(s, sentences[b].id)
        for s, b in zip(sentences, best, strict=True)
    ]


class _Bodies:
    """Candidate body sentences of one normalised text, grouped for the lookup per copy."""

    def __init__(self, sentences: list[Sentence], lengths: list[int], candidates: list[int]):
        self.sentences = sentences
        self.lengths = lengths
        # Per source: candidate positions by paragraph length, ascending.
        self.by_length: dict[str, dict[int, list[int]]] = {}
        for j in sorted(candidates):
            groups = self.by_length.setdefault(sentences[j].source, {})
            groups.setdefault(lengths[j], []).append(j)
        # Per source: the lengths ascending, and the first position of any length from there on.
        self.ladders: dict[str, tuple[list[int], list[int]]] = {}
        for source, groups in self.by_length.items():
            ascending = sorted(groups)
            first_from = [0] * len(ascending)
            running = len(sentences)
            for k in range(len(ascending) - 1, -1, -1):
                running = min(running, groups[ascending[k]][0])
                first_from[k] = running
            self.ladders[source] = (ascending, first_from)

    def first_for(self, i: int) -> int:
        """Position of the body sentence copy ``i`` repeats, or -1."""
        s = self.sentences[i]
        own = self.lengths[i]
        ascending, first_from = self.ladders[s.source]
        k = bisect.bisect_right(ascending, own)
        best = first_from[k] if k < len(ascending) else -1
        for j in self.by_length[s.source].get(own, ()):
            if j >= i or 0 <= best < j:
                break
            if self.sentences[j].paragraph != s.paragraph:
                return j
        return best


def _with_duplicate(s: Sentence, of: int) -> Sentence:
    return Sentence(s.id, s.source, s.start, s.end, s.paragraph, s.text, duplicate_of=of)
