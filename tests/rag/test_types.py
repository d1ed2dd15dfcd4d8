"""The nouns' small helpers."""

from __future__ import annotations

import pytest

from rag.types import Answer, final_answer


def _answer(text: str, complete: bool = True) -> Answer:
    return Answer(question="q", answer=text, abstained=False, complete=complete)


def test_final_answer_is_the_last_of_the_stream():
    stream = iter([_answer("", complete=False), _answer("done [1]")])
    assert final_answer(stream).answer == "done [1]"


@pytest.mark.parametrize("stream", [[], [_answer("partial", complete=False)]])
def test_a_stream_without_its_complete_answer_is_an_error(stream):
    with pytest.raises(RuntimeError, match="without a final answer"):
        final_answer(stream)
