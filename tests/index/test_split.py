from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from index.corpus import sha256_text
from index.split import mark_duplicates, paragraphs, sentence_spans, split_document
from rag.types import Document


def _doc(text: str) -> Document:
    return Document("t.txt", text, sha256_text(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_every_sentence_is_its_source_slice(text):
    sentences = split_document(_doc(text))
    previous_end = 0
    for s in sentences:
        assert s.text == text[s.start : s.end]
        assert s.text.strip() == s.text and s.text
        assert s.start >= previous_end
        previous_end = s.end


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["U.S.", "Rep.", "D.", "He said.", "“Yes.”", "it’s", "A", "\n", " "]),
        max_size=30,
    )
)
def test_sentences_cover_all_non_space_text(parts):
    text = " ".join(parts)
    sentences = split_document(_doc(text))
    covered = "".join(s.text for s in sentences)
    assert covered.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_abbreviations_do_not_end_sentences():
    text = "Todd D. Robinson met Rep. Mike Gallagher in the U.S. capital. Then he left."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "Todd D. Robinson met Rep. Mike Gallagher in the U.S. capital.",
        "Then he left.",
    ]


def test_dotted_acronym_before_sentence_opener_ends_sentence():
    text = "Shipments went to the U.S. The drug spread."
    assert len(sentence_spans(text)) == 2


def test_closing_curly_quote_stays_with_its_sentence():
    text = "“We want cooperation.” She left. It’s done."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "“We want cooperation.”",
        "She left.",
        "It’s done.",
    ]


def test_paragraphs_by_line_or_blank_line():
    assert len(paragraphs("one\ntwo\nthree")) == 3
    assert len(paragraphs("one\nstill one\n\ntwo")) == 2


def test_pull_quote_points_to_body_sentence():
    text = (
        "Because prices are low, the small makers cut corners often.\n"
        "Jane Roe, a fellow at the Institute of Things\n"
        "“Quote first.” Because prices are low, the small makers cut corners often, says "
        "Jane Roe, a fellow at the Institute of Things.\n"
    )
    sentences = mark_duplicates(split_document(_doc(text)))
    pull, attribution = sentences[0], sentences[1]
    body = sentences[-1]
    assert pull.duplicate_of == body.id
    assert attribution.duplicate_of == body.id
    assert body.duplicate_of == -1


def test_article_pull_quotes_are_detected(article_text):
    sentences = mark_duplicates(split_document(_doc(article_text)))
    duplicates = [s for s in sentences if s.duplicate_of >= 0]
    assert len(duplicates) == 5
    for s in duplicates:
        body = sentences[s.duplicate_of]
        assert body.duplicate_of == -1
        assert len(body.text) >= len(s.text)


def test_hand_marked_answer_sentences_are_whole_split_sentences(article_text):
    path = Path(__file__).parents[1] / "data" / "retrieval.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    split = {s.text for s in split_document(_doc(article_text))}
    for item in items:
        assert item["sentence"] in split, item["sentence"]
