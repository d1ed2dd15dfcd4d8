"""Find paragraphs and sentences with exact character offsets, and mark repeated pull quotes."""

from __future__ import annotations

import re
import unicodedata

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


def split_document(doc: Document, first_id: int = 0) -> list[Sentence]:
    """Split a document into sentences with offsets and 1-based paragraph numbers."""
    sentences: list[Sentence] = []
    for number, (p_start, p_end) in enumerate(paragraphs(doc.text), start=1):
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
    body; the copy in the shorter paragraph gets ``duplicate_of`` set to the body sentence.
    """
    norms = [normalise(s.text) for s in sentences]
    para_len: dict[tuple[str, int], int] = {}
    for s in sentences:
        key = (s.source, s.paragraph)
        para_len[key] = para_len.get(key, 0) + len(s.text)
    # Only a sentence holding every word of ``norm`` can contain it: look those up by word
    # instead of comparing all pairs (quadratic, hours for a corpus of megabytes).
    holders: dict[str, set[int]] = {}
    for i, norm in enumerate(norms):
        for word in norm.split():
            holders.setdefault(word, set()).add(i)
    marked: list[Sentence] = []
    for s, norm in zip(sentences, norms, strict=True):
        best = -1
        if len(norm.split()) >= min_words:
            own = para_len[(s.source, s.paragraph)]
            postings = sorted((holders[w] for w in set(norm.split())), key=len)
            found = set.intersection(*postings) if postings else range(len(sentences))
            for j in sorted(found):
                other, other_norm = sentences[j], norms[j]
                if other.source != s.source or other.paragraph == s.paragraph:
                    continue
                other_len = para_len[(other.source, other.paragraph)]
                longer = other_len > own or (other_len == own and other.id < s.id)
                if longer and f" {norm} " in f" {other_norm} ":
                    best = other.id
                    break
        marked.append(s if best < 0 else _with_duplicate(s, best))
    return marked


def _with_duplicate(s: Sentence, of: int) -> Sentence:
    return Sentence(s.id, s.source, s.start, s.end, s.paragraph, s.text, duplicate_of=of)
