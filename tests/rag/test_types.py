"""The nouns' small helpers."""

from __future__ import annotations

import pytest

from rag.types import Answer, Sentence, final_answer, paragraph_of


def _answer(text: str, complete: bool = True) -> Answer:
    return Answer(question="q", answer=text, abstained=False, complete=complete)


def test_final_answer_is_the_last_of_the_stream():
    stream = iter([_answer("", complete=False), _answer("done [1]")])
    assert final_answer(stream).answer == "done [1]"


@pytest.mark.parametrize("stream", [[], [_answer("partial", complete=False)]])
def test_a_stream_without_its_complete_answer_is_an_error(stream):
    with pytest.raises(RuntimeError, match="without a final answer"):
        final_answer(stream)


def test_paragraph_of_gives_its_paragraph_in_order():
    layout = [("a.txt", 1), ("a.txt", 2), ("a.txt", 2), ("a.txt", 2), ("b.txt", 2)]
    sentences = [Sentence(i, src, 0, 1, par, "x") for i, (src, par) in enumerate(layout)]
    assert [s.id for s in paragraph_of(sentences[2], sentences)] == [1, 2, 3]
    assert [s.id for s in paragraph_of(sentences[0], sentences)] == [0]
    assert [s.id for s in paragraph_of(sentences[4], sentences)] == [4]
