"""What the corpus says in words: its terms and their IDF, and the names it uses."""

from __future__ import annotations

import re

from rag.nlp import parse, question_names
from rag.text import ACRONYM, acronyms, content_words, idf_table, name_forms, stem, terms
from rag.types import Sentence

# A word in capitals that may be an acronym ("INCB", "DOJs").
_WORD_IN_CAPITALS = re.compile(r"\b[A-Z]{2,6}s?\b")


def weighted_coverage(
    query_terms: list[str], found: set[str], idf: dict[str, float], unseen: float
) -> float:
    """IDF-weighted share of ``query_terms`` present in ``found`` (1.0 for no terms)."""
    unique = set(query_terms)
    if not unique:
        return 1.0
    total = sum(idf.get(t, unseen) for t in unique)
    return sum(idf.get(t, unseen) for t in unique if t in found) / total


class Vocabulary:
    """Every sentence's terms, their IDF, and the name words the corpus uses."""

    def __init__(self, sentences: tuple[Sentence, ...]):
        words = [set(content_words(s.text)) for s in sentences]
        self.sentence_terms = [{stem(w) for w in ws} for ws in words]
        self.idf, self.unseen_idf = idf_table(self.sentence_terms)
        self.words = set().union(*words) if words else set()
        self.all_terms = set().union(*self.sentence_terms) if words else set()
        self.acronyms = acronyms(s.text for s in sentences)
        self.forms = set().union(*(name_forms(w) for w in self.words)) if words else set()
        self._texts = [s.text for s in sentences]
        self._people: dict[str, bool] = {}

    def is_person(self, word: str) -> bool:
        """Whether spaCy tags ``word`` as part of a person's name somewhere in the corpus: the
        small model, which reads one sentence at a time, may miss "Katrina" or call
        "Felbab-Brown" a body in a sentence that gives no first name."""
        if word not in self._people:
            self._people[word] = any(
                any(t.text == word for e in parse(text).ents if e.label_ == "PERSON" for t in e)
                for text in self._texts
                if word in text
            )
        return self._people[word]

    def rarity(self, text: str) -> float:
        """Mean IDF of ``text``'s terms: low for what the corpus keeps naming ("China" in an
        article about China), high for what it names once."""
        values = [self.idf.get(t, self.unseen_idf) for t in terms(text)]
        return sum(values) / len(values) if values else self.unseen_idf

    def spell_out(self, text: str) -> str:
        """``text`` with each of the corpus's acronyms followed by the name it stands for, in
        brackets ("the INCB" -> "the INCB (International Narcotics Control Board)"), so that
        the question is embedded and matched by the words the corpus uses."""

        def spelled(match: re.Match[str]) -> str:
            word = match.group(0)
            name = self.acronyms.get(word.rstrip("s"))
            return f"{word} ({name})" if name and name not in text else word

        return _WORD_IN_CAPITALS.sub(spelled, text)

    def _known(self, word: str) -> bool:
        """Whether the corpus uses the name word ``word``: by stem, as the initials of a name
        ("CCP"), or as the country of a demonym or the reverse ("Indian" ~ "India").
        Names are identities, so nearness of meaning ("Canada" ~ "America") does not count."""
        if ACRONYM.match(word) and word.rstrip("s") in self.acronyms:
            return True
        parts = content_words(word)
        return all(
            stem(p) in self.all_terms or p in self.forms or not name_forms(p).isdisjoint(self.words)
            for p in parts
        )

    def unknown_names(self, question: str) -> tuple[str, ...]:
        """Named entities of ``question`` (by spaCy) that the corpus never uses, not even one
        word of them ("Justin Trudeau"; not "Xi Jinping", since "Xi" is used)."""
        unknown = []
        for name in question_names(question):
            # Words in capitals longer than most acronyms are shouting ("SYSTEM OVERRIDE").
            parts = [w for w in name.split() if not (w.isupper() and len(w) > 4)]
            parts = [w for w in parts if content_words(w)]
            if parts and not any(self._known(w) for w in parts):
                unknown.append(name)
        return tuple(unknown)
