"""Word terms for lexical matching: lowercase, stop words and question words dropped, stemmed."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

# A four-digit year of the last two centuries.
YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_WORD = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:[-'’][^\W\d_]+)*")

# Capitalised runs of the corpus ("Chinese Communist Party"), for acronyms in questions ("CCP").
_CAPITALISED_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:of\s+|and\s+|the\s+)*[A-Z][\w’'-]*)+")
ACRONYM = re.compile(r"^[A-Z]{2,6}s?$")


def acronyms(texts: Iterable[str]) -> dict[str, str]:
    """Initials of every run of capitalised words in ``texts`` ("Chinese Communist Party" ->
    "CCP"), with and without its "of", "and", "the" ("Department of Justice" -> "DJ" and
    "DOJ"), each with the first run that has them."""
    found: dict[str, str] = {}
    for text in texts:
        for run in _CAPITALISED_RUN.findall(text):
            words = run.split()
            found.setdefault("".join(w[0] for w in words if w[0].isupper()), run)
            found.setdefault("".join(w[0] for w in words).upper(), run)
    return found


# Function words, question words and words about the asking itself carry no topic.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    according article say says said tell told mention mentioned describe explain give name named
    many much kind sort way ever one ones us s t don isn wasn weren didn doesn according per via
    whose""".split()
)


# Irregular past forms the stemmer cannot map to their verb ("won" should match "win").
IRREGULAR = dict(
    pair.split(":")
    for pair in """won:win met:meet made:make took:take taken:take gave:give given:give
    found:find went:go
    gone:go began:begin begun:begin brought:bring held:hold left:leave sold:sell bought:buy
    paid:pay led:lead ran:run rose:rise risen:rise fell:fall fallen:fall grew:grow grown:grow
    knew:know known:know thought:think saw:see seen:see became:become came:come got:get
    kept:keep built:build sent:send spent:spend stood:stand chose:choose chosen:choose
    wrote:write written:write spoke:speak spoken:speak broke:break broken:break struck:strike
    sought:seek taught:teach caught:catch fought:fight meant:mean lost:lose felt:feel heard:hear
    hid:hide forbade:forbid dealt:deal drove:drive driven:drive ate:eat died:die dying:die
    lying:lie""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lowercased word and number tokens, with ``,`` inside numbers removed (105,000 -> 105000)."""
    return [w.replace(",", "").replace("’", "'") for w in _WORD.findall(text.lower())]


def content_words(text: str) -> list[str]:
    """Lowercased words of ``text`` that carry topic: no stop words, possessives or hyphens."""
    kept = []
    for word in words(text):
        for part in word.split("'")[0].split("-"):
            if part and part not in STOPWORDS:
                kept.append(part)
    return kept


def stem(word: str) -> str:
    """The term of one content word ("won" -> "win", "fatalities" -> "fatal")."""
    return _stemmer().stemWord(IRREGULAR.get(word, word))


def terms(text: str) -> list[str]:
    """Stemmed content terms of ``text``: the unit BM25, coverage and support checks use."""
    return [stem(w) for w in content_words(text)]


def idf_table(documents: Iterable[Iterable[str]]) -> tuple[dict[str, float], float]:
    """Smoothed IDF of every term over ``documents``, and the IDF of an unseen term."""
    docs = [set(d) for d in documents]
    n = len(docs)
    df = Counter(t for d in docs for t in d)
    table = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
    return table, math.log((n + 1) / 0.5)


def name_forms(word: str) -> set[str]:
    """``word`` and its demonym-like forms: "india" -> "indian", "mexico" -> "mexican",
    "china" -> "chinese"."""
    stems = {word, word[:-1]} if word[-1:] in "aeiouy" else {word}
    return {word} | {s + end for s in stems for end in ("n", "an", "ian", "ese", "ns", "ans")}


def years(text: str) -> list[int]:
    """The four-digit years ``text`` names, in order."""
    return [int(y) for y in YEAR.findall(text)]
