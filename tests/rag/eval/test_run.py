"""``run_eval`` end to end with a tiny fake bot (no models, no index)."""

from __future__ import annotations

import argparse
import json

import pytest

from rag.abstain import Verdict
from rag.config import Config
from rag.eval.run import run_eval
from rag.pipeline import SearchResult
from rag.types import Answer, Chunk, Citation, Document, Passage

TEXT = (
    "Officials met in Beijing in late January. Overdose deaths reached 105,000 last year. "
    "China controlled fentanyl in 2019."
)
SENTENCES = [
    "Officials met in Beijing in late January.",
    "Overdose deaths reached 105,000 last year.",
    "China controlled fentanyl in 2019.",
]
ANSWERS = {"Where did officials meet?": 0, "How many people died?": 1}


def _citation(n: int, sentence: int) -> Citation:
    quote = SENTENCES[sentence]
    start = TEXT.index(quote)
    return Citation(n, quote, "doc.txt", start, start + len(quote), 0, 0.9)


def _passage(rank: int, sentence: int) -> Passage:
    c = _citation(1, sentence)
    chunk = Chunk(sentence, "doc.txt", c.start, c.end, 0, c.quote, (sentence,))
    return Passage(chunk, score=1 / rank, rank=rank)


class FakeIndex:
    manifest = {"key": {"corpus_sha256": "f" * 64, "model": "fake-embedder"}}
    documents = {"doc.txt": Document("doc.txt", TEXT, "0" * 64)}


class FakeBot:
    """Answers two questions from the text, abstains on the rest, refuses ``boom?``."""

    config = Config(generator="none")
    model_name = "fake"
    index = FakeIndex()
    documents = FakeIndex.documents

    def ask(self, question: str, history: list | None = None) -> Answer:
        if question == "boom?":
            raise ValueError("Please type a question about the article.")
        timings = {"total_s": 0.01}
        if question not in ANSWERS:
            return Answer(
                question,
                "The article doesn't say.",
                True,
                related=(_citation(1, 2),),
                timings=timings,
            )
        c = _citation(1, ANSWERS[question])
        return Answer(question, f"{c.quote} [1]", False, citations=(c,), timings=timings)

    def search(self, question: str, history: list | None = None, k: int | None = None):
        first = ANSWERS.get(question, 2)
        order = [first, *(i for i in range(3) if i != first)]
        passages = tuple(_passage(rank, s) for rank, s in enumerate(order, start=1))
        verdict = Verdict(False, 0.9, "")
        return SearchResult(question, question, passages[:k], (), verdict, 0.001)


ITEMS = [
    {
        "id": "q1",
        "question": "How many people died?",
        "answerable": True,
        "answers": ["105,000"],
        "gold_quotes": ["deaths reached 105,000"],
        "type": "number",
    },
    {
        "id": "q2",
        "question": "Where did officials meet?",
        "answerable": True,
        "answers": ["in Beijing"],
        "gold_quotes": ["Officials met in Beijing"],
        "type": "place",
    },
    {
        "id": "q3",
        "question": "Who won the cup?",
        "answerable": False,
        "answers": [],
        "gold_quotes": [],
        "type": "unanswerable",
    },
    {
        "id": "q4",
        "question": "boom?",
        "answerable": True,
        "answers": ["x"],
        "gold_quotes": [],
        "type": "number",
    },
]


def _write_set(path):
    path.write_text("".join(json.dumps(i) + "\n" for i in ITEMS), encoding="utf-8")
    return path


@pytest.fixture
def test_set(tmp_path):
    return _write_set(tmp_path / "set.jsonl")


def _args(test_set, out, **changes) -> argparse.Namespace:
    values = {
        "file": str(test_set),
        "out": str(out),
        "limit": None,
        "k": None,
        "generator": None,
        "fail_under": [],
        "export_ragas": None,
        "corpus": None,
    }
    return argparse.Namespace(**{**values, **changes})


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """One run over ITEMS, shared: (exit code, output folder, RAGAS export file)."""
    folder = tmp_path_factory.mktemp("eval")
    out, export = folder / "out", folder / "ragas.jsonl"
    args = _args(_write_set(folder / "set.jsonl"), out, export_ragas=str(export))
    return run_eval(args, FakeBot().config, bot=FakeBot()), out, export


def _report(out) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _predictions(out) -> list[dict]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def test_run_eval_returns_zero_without_gates(evaluated):
    assert evaluated[0] == 0


def test_run_eval_writes_the_report_folder(evaluated):
    names = {p.name for p in evaluated[1].iterdir()}
    assert names == {"predictions.jsonl", "report.json", "report.md", "plots"}


def test_run_eval_scores_the_answers(evaluated):
    overall = _report(evaluated[1])["overall"]
    assert (overall["lenient_hit"], overall["quote_verbatim"], overall["abstain_recall"]) == (
        0.75,
        1.0,
        1.0,
    )


def test_run_eval_records_a_refused_question_and_keeps_going(evaluated):
    records = _predictions(evaluated[1])
    assert [r["id"] for r in records] == ["q1", "q2", "q3", "q4"]
    assert records[3]["error"] == "Please type a question about the article."


def test_run_eval_writes_corpus_hash_and_model_into_metadata(evaluated):
    meta = _report(evaluated[1])["metadata"]
    assert (meta["corpus_sha256"], meta["models"]["generator"]) == ("f" * 64, "fake")


def test_export_ragas_writes_one_row_per_item(evaluated):
    rows = [json.loads(line) for line in evaluated[2].read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(ITEMS)
    assert rows[0] == {
        "user_input": "How many people died?",
        "retrieved_contexts": SENTENCES[1:2] + SENTENCES[0:1] + SENTENCES[2:],
        "response": "Overdose deaths reached 105,000 last year. [1]",
        "reference": "105,000",
    }


def test_run_eval_limit_keeps_the_first_items(test_set, tmp_path):
    run_eval(_args(test_set, tmp_path, limit=2), FakeBot().config, bot=FakeBot())
    assert [r["id"] for r in _predictions(tmp_path)] == ["q1", "q2"]


def test_failed_gate_returns_one_and_names_the_metric(test_set, tmp_path, capsys):
    args = _args(test_set, tmp_path, fail_under=["quote_verbatim=1.0", "lenient_hit=0.9"])
    assert run_eval(args, FakeBot().config, bot=FakeBot()) == 1
    assert "lenient_hit = 0.7500 is below the required 0.9" in capsys.readouterr().err


def test_passing_gates_return_zero(test_set, tmp_path):
    args = _args(test_set, tmp_path, fail_under=["quote_verbatim=1.0", "lenient_hit=0.75"])
    assert run_eval(args, FakeBot().config, bot=FakeBot()) == 0


def test_unknown_gate_metric_is_rejected_before_asking(test_set, tmp_path):
    args = _args(test_set, tmp_path / "out", fail_under=["speed=1"])
    with pytest.raises(ValueError, match="valid names"):
        run_eval(args, FakeBot().config, bot=FakeBot())
    assert not (tmp_path / "out").exists()
