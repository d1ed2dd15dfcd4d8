from __future__ import annotations

from rag.speaker import attribution_for, introduction_for, speaker_sentences, speech_name
from rag.types import Sentence


def _sentences(*paragraphs: list[str]) -> tuple[Sentence, ...]:
    """Sentences laid out one paragraph per list, offsets as if joined by spaces."""
    out = []
    start = 0
    for p, texts in enumerate(paragraphs, start=1):
        for text in texts:
            out.append(Sentence(len(out), "a.txt", start, start + len(text), p, text))
            start += len(text) + 1
    return tuple(out)


DOC = _sentences(
    ["“Cooperation matters,” says Ada Byron, a fellow at the Example Institute."],
    ["Officials met in Paris.", "“It will take years,” adds Byron.", "“Nothing is quick.”"],
    ["Yesterday, Alan M. Turing, the envoy, rejected the claim.", "“We see no proof.”"],
    ["“It is slow,” she says."],
)


def test_speech_name_after_verb():
    assert speech_name("“It will take years,” adds Byron.") == "Byron"


def test_speech_name_drops_titles():
    assert speech_name("“Yes,” says Representative Mike Gallagher.") == "Mike Gallagher"


def test_speech_name_is_none_without_speech_verb():
    assert speech_name("Officials met in Paris.") is None


def test_bare_quote_is_attributed_to_previous_sentence_in_paragraph():
    assert attribution_for(DOC[5], DOC) == DOC[4]


def test_continued_quote_skips_back_over_other_quotes():
    assert attribution_for(DOC[3], DOC) == DOC[2]


def test_bare_quote_opening_a_paragraph_has_no_attribution():
    doc = _sentences(["Officials met."], ["“We see no proof.”"])
    assert attribution_for(doc[1], doc) is None


def test_pronoun_speech_finds_named_speaker_before():
    assert attribution_for(DOC[6], DOC) == DOC[2]


def test_named_speaker_needs_no_attribution():
    assert attribution_for(DOC[0], DOC) is None


def test_surname_is_introduced_by_first_full_name():
    assert introduction_for(DOC[2], DOC) == DOC[0]


def test_full_name_needs_no_introduction():
    assert introduction_for(DOC[0], DOC) is None


def test_speaker_sentences_chain_attribution_then_introduction():
    assert speaker_sentences(DOC[6], DOC) == [DOC[2], DOC[0]]


def test_speaker_sentences_empty_for_plain_sentence():
    assert speaker_sentences(DOC[1], DOC) == []


def test_quote_with_unnamed_attribution_clause_is_not_bare():
    doc = _sentences(
        ["“Yes,” Ann Lee, the chair of the panel, said at the hearing.", "“It is clear.”"]
    )
    assert attribution_for(doc[1], doc) == doc[0]


def test_sentence_inside_an_open_quotation_belongs_to_its_speaker():
    doc = _sentences(["“Yes,” says Ann Lee.", "“It is clear.", "It is late.”"])
    assert attribution_for(doc[2], doc) == doc[0]
