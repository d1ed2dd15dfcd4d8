"""Find the sentences that say who is speaking in a quoted sentence, and who that person is."""

from __future__ import annotations

import re

from rag.types import Sentence, paragraph_of

_VERB = r"(?:says|said|adds|added|notes|noted)"
# "she says", "he added": the speaker is named in an earlier sentence.
PRONOUN_SPEECH = re.compile(rf"\b(?:she|he|they)\s+{_VERB}\b", re.I)
# "says Vanda Felbab-Brown", "adds LaBelle", "LaBelle says": the speaker is named here.
_NAME = r"[A-Z][\w’'-]*\.?(?:\s+[A-Z][\w’'-]*\.?)*"
_NAMED_SPEECH = re.compile(rf"\b{_VERB}\s+(?P<after>{_NAME})|(?P<before>{_NAME})\s+{_VERB}\b")
# Titles that may stand before a name without being one ("says Representative Mike Gallagher").
_TITLES = frozenset("Representative Senator President Secretary Director Dr. Mr. Ms. Mrs.".split())
_QUOTED = re.compile(r"“[^”]*(?:”|$)")


def speech_name(text: str) -> str | None:
    """The name given next to a speech verb ("LaBelle" in "…,” adds LaBelle."), if any."""
    match = _NAMED_SPEECH.search(text)
    if match is None:
        return None
    tokens = [t for t in (match.group("after") or match.group("before")).split() if t]
    tokens = [t for t in tokens if t not in _TITLES]
    return " ".join(tokens).rstrip(".") or None


def _opens_inside_quote(sentence: Sentence, sentences: tuple[Sentence, ...]) -> bool:
    """Whether an earlier sentence of the paragraph left a quotation open."""
    earlier = [o.text for o in paragraph_of(sentence, sentences) if o.id < sentence.id]
    return sum(t.count("“") - t.count("”") for t in earlier) > 0


def _is_bare_quote(sentence: Sentence, sentences: tuple[Sentence, ...]) -> bool:
    """A sentence that is all quotation: no word of it stands outside quotation marks."""
    text = sentence.text.lstrip()
    if not text.startswith("“") and _opens_inside_quote(sentence, sentences):
        text = "“" + text
    return text.startswith("“") and not re.search(r"[^\W\d_]", _QUOTED.sub("", text))


def attribution_for(
    sentence: Sentence, sentences: tuple[Sentence, ...], reach: int = 4
) -> Sentence | None:
    """The earlier sentence naming the speaker of ``sentence``.

    That is the nearest earlier sentence with a named speech verb when ``sentence`` says only
    "she adds", or the sentence before it in its paragraph when it is a bare quotation that
    continues one. None when the sentence names its own speaker or nothing fits.
    """
    if _NAMED_SPEECH.search(sentence.text):
        return None
    bare = _is_bare_quote(sentence, sentences)
    if not bare and not PRONOUN_SPEECH.search(sentence.text):
        return None
    for sid in range(sentence.id - 1, max(sentence.id - 1 - reach, -1), -1):
        other = sentences[sid]
        if other.source != sentence.source or other.duplicate_of >= 0:
            continue
        if bare:
            # A continued quotation belongs to whoever the paragraph quoted just before it.
            if other.paragraph != sentence.paragraph:
                return None
            if not _is_bare_quote(other, sentences):
                return other
        elif _NAMED_SPEECH.search(other.text):
            return other
    return None


def introduction_for(
    named: Sentence, sentences: tuple[Sentence, ...], skip: frozenset[int] = frozenset()
) -> Sentence | None:
    """The first sentence giving the full name of a speaker that ``named`` calls by surname
    only (so it usually says who the person is), or None."""
    name = speech_name(named.text)
    if name is None or " " in name:
        return None
    full = re.compile(rf"\b[A-Z][\w’'-]*\.?(?:\s+[A-Z]\.)?\s+{re.escape(name)}\b")
    for other in sentences:
        if other.source != named.source or other.duplicate_of >= 0 or other.id in skip:
            continue
        if full.search(other.text):
            return None if other.id == named.id else other
    return None


def speaker_sentences(sentence: Sentence, sentences: tuple[Sentence, ...]) -> list[Sentence]:
    """The sentences a reader needs to know who says ``sentence`` and who they are, in the
    order they should follow it: its attribution, then the speaker's introduction."""
    found: list[Sentence] = []
    named = sentence
    # Follow "she says" and continued quotations back to the sentence that names the speaker.
    while len(found) < 2:
        earlier = attribution_for(named, sentences)
        if earlier is None:
            break
        found.append(earlier)
        named = earlier
    intro = introduction_for(named, sentences, frozenset({sentence.id}))
    if intro is not None and intro.id not in {s.id for s in found}:
        found.append(intro)
    return found
