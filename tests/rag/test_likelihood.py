"""Query likelihood with the real SmolLM2, on sentences written for the test."""

from __future__ import annotations

import pytest
import torch

from rag.likelihood import ANSWER_PROMPT, PROMPT, QueryLikelihood

TEXTS = [
    "The lighthouse on the northern cape was built in 1874 by a Scottish engineer.",
    "Ferries to the island leave the harbour twice a day in summer.",
    "The town council voted to raise parking fees last spring.",
]


@pytest.fixture(scope="module")
def scorer(generator) -> QueryLikelihood:
    return QueryLikelihood.of(generator)


def _unbatched(generator, question: str, text: str) -> float:
    tok, model = generator.tokenizer, generator.model
    prompt = tok(PROMPT.format(text=text), return_tensors="pt")["input_ids"][0]
    asked = tok(" " + question, return_tensors="pt")["input_ids"][0]
    with torch.inference_mode():
        logits = model(input_ids=torch.cat([prompt, asked])[None]).logits[0]
    logp = torch.log_softmax(logits.float(), -1)
    n = len(prompt)
    return float(sum(logp[n - 1 + j, asked[j]] for j in range(len(asked))) / len(asked))


def test_sentence_that_answers_is_the_most_likely(scorer):
    scores = scorer.score("When was the lighthouse built?", TEXTS)
    assert scores[0] > max(scores[1:])


def test_batched_scores_equal_one_text_at_a_time(scorer, generator):
    question = "How often do ferries leave the harbour?"
    batched = scorer.score(question, TEXTS)
    single = [_unbatched(generator, question, t) for t in TEXTS]
    assert batched == pytest.approx(single, abs=1e-3)


def test_stored_prompt_is_unchanged_by_scoring(scorer):
    first = scorer.score("Who voted to raise parking fees?", TEXTS)
    again = scorer.score("Who voted to raise parking fees?", TEXTS)
    assert first == pytest.approx(again, abs=1e-5)


def test_no_texts_no_scores(scorer):
    assert scorer.score("Anything?", []) == []


def test_warm_stores_each_prompt_once(generator):
    scorer = QueryLikelihood.of(generator)
    scorer.warm(TEXTS + TEXTS[:1])
    assert set(scorer._prefixes) == set(TEXTS)


def test_the_answer_in_the_quote_is_likelier_than_another_of_its_words(scorer):
    scores = scorer.answers(
        "When was the lighthouse built?", TEXTS[0], ["1874", "the northern cape"]
    )
    assert scores[0] > scores[1]


def test_batched_answers_equal_one_answer_at_a_time(scorer, generator):
    tok, model = generator.tokenizer, generator.model
    question, quote = "Who built the lighthouse?", TEXTS[0]
    answers = ["a Scottish engineer", "1874", "the town council of the northern cape"]
    batched = scorer.answers(question, quote, answers)
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": ANSWER_PROMPT.format(quote=quote, question=question)}],
        add_generation_prompt=True,
        tokenize=False,
    )
    for answer, value in zip(answers, batched, strict=True):
        ids = tok(prompt + answer + tok.eos_token, return_tensors="pt")["input_ids"][0]
        n = len(tok(prompt, return_tensors="pt")["input_ids"][0])
        with torch.inference_mode():
            logp = torch.log_softmax(model(input_ids=ids[None]).logits[0].float(), -1)
        alone = float(sum(logp[j - 1, ids[j]] for j in range(n, len(ids))) / (len(ids) - n))
        assert value == pytest.approx(alone, abs=0.02)


def test_no_answers_no_scores(scorer):
    assert scorer.answers("Who built it?", TEXTS[0], []) == []
