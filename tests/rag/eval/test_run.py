"""``run_eval`` end to end with a tiny fake bot (no models, no index)."""

from __future__ import annotations

import argparse
import dataclasses
import json

import pytest

from rag.abstain import Verdict
from rag.config import Config
from rag.eval.run import MODES, answer_mode, run_eval
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
    assert names == {
        "predictions.jsonl",
        "report.json",
        "report.md",
        "squad_predictions.json",
        "squad_na_probs.json",
        "plots",
    }


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
    assert (meta["index_corpus_key"], meta["models"]["generator"]) == ("f" * 64, "fake")


def test_corpus_sha256_is_what_sha256sum_prints_for_each_file(evaluated):
    import subprocess

    meta = _report(evaluated[1])["metadata"]
    paths = list(meta["corpus_sha256"])
    printed = subprocess.run(["sha256sum", *paths], capture_output=True, text=True, check=True)
    assert [f"{sha}  {path}" for path, sha in meta["corpus_sha256"].items()] == (
        printed.stdout.splitlines()
    )
    text = (evaluated[1] / "report.md").read_text(encoding="utf-8")
    assert printed.stdout.splitlines()[0] in text


def test_wall_time_shows_start_up_apart(test_set, tmp_path):
    class SlowLoadBot(FakeBot):
        load_s = 12.5

    run_eval(_args(test_set, tmp_path / "out"), FakeBot().config, bot=SlowLoadBot())
    meta = _report(tmp_path / "out")["metadata"]
    assert meta["model_load_s"] == 12.5
    assert meta["wall_s"] >= meta["startup_s"] + meta["questions_s"] - 0.01
    assert "including model load, questions" in (tmp_path / "out" / "report.md").read_text(
        encoding="utf-8"
    )


def test_export_ragas_writes_one_row_per_item(evaluated):
    rows = [json.loads(line) for line in evaluated[2].read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(ITEMS)
    assert rows[0] == {
        "id": "q1",
        "user_input": "How many people died?",
        "response": "Overdose deaths reached 105,000 last year.",
        "retrieved_contexts": SENTENCES[1:2] + SENTENCES[0:1] + SENTENCES[2:],
        "reference": "105,000",
        "reference_contexts": ["deaths reached 105,000"],
        "abstained": False,
    }
    assert (rows[2]["response"], rows[2]["abstained"]) == ("", True)


def test_the_ragas_export_reads_back_as_the_same_questions(evaluated, tmp_path):
    from rag.eval.formats import load_items

    export = tmp_path / "export.jsonl"
    export.write_text(evaluated[2].read_text(encoding="utf-8"), encoding="utf-8")
    items = load_items(export)
    assert [(i.id, i.question, i.answers) for i in items] == [
        (i["id"], i["question"], tuple(i["answers"])) for i in ITEMS
    ]


def test_run_eval_limit_keeps_the_first_items(test_set, tmp_path):
    run_eval(_args(test_set, tmp_path / "out", limit=2), FakeBot().config, bot=FakeBot())
    assert [r["id"] for r in _predictions(tmp_path / "out")] == ["q1", "q2"]


def test_failed_gate_returns_one_and_names_the_metric(test_set, tmp_path, capsys):
    args = _args(test_set, tmp_path / "out", fail_under=["quote_verbatim=1.0", "lenient_hit=0.9"])
    assert run_eval(args, FakeBot().config, bot=FakeBot()) == 1
    assert "lenient_hit = 0.7500 is below the required 0.9" in capsys.readouterr().err


def test_passing_gates_return_zero(test_set, tmp_path):
    args = _args(test_set, tmp_path / "out", fail_under=["quote_verbatim=1.0", "lenient_hit=0.75"])
    assert run_eval(args, FakeBot().config, bot=FakeBot()) == 0


def test_unknown_gate_metric_is_rejected_before_asking(test_set, tmp_path, capsys):
    bot = CountingBot()
    args = _args(test_set, tmp_path / "out", fail_under=["speed=1"])
    assert run_eval(args, bot.config, bot=bot) == 2
    assert "valid names" in capsys.readouterr().err
    assert (bot.asked, (tmp_path / "out").exists()) == ([], False)


# --- nothing lost on a crash ------------------------------------------------------------------


class CountingBot(FakeBot):
    """A FakeBot that remembers the questions asked and can fail on one of them.

    Args:
        fail_on: The question to fail on.
        error: What to raise then (any exception, or ``KeyboardInterrupt`` for Ctrl-C).
    """

    def __init__(self, fail_on: str | None = None, error: BaseException | None = None):
        self.asked: list[str] = []
        self.fail_on, self.error = fail_on, error

    def ask(self, question: str, history: list | None = None) -> Answer:
        self.asked.append(question)
        if question == self.fail_on:
            raise self.error
        return super().ask(question, history)


def _without_latency(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if "latency" not in k}


def test_any_exception_from_the_bot_becomes_the_items_error(test_set, tmp_path):
    bot = CountingBot("Where did officials meet?", RuntimeError("CUDA out of memory"))
    assert run_eval(_args(test_set, tmp_path / "out"), bot.config, bot=bot) == 0
    records = _predictions(tmp_path / "out")
    assert [r["id"] for r in records] == ["q1", "q2", "q3", "q4"]
    assert records[1]["error"] == "RuntimeError: CUDA out of memory"
    assert _report(tmp_path / "out")["overall"]["errors"] == 2


def test_ctrl_c_keeps_the_items_done_and_writes_a_partial_report(test_set, tmp_path, capsys):
    bot = CountingBot("Who won the cup?", KeyboardInterrupt())
    assert run_eval(_args(test_set, tmp_path / "out"), bot.config, bot=bot) == 3
    assert [r["id"] for r in _predictions(tmp_path / "out")] == ["q1", "q2"]
    report = _report(tmp_path / "out")
    assert (report["partial"], report["items_done"], report["items_total"]) == (True, 2, 4)
    assert report["overall"]["items"] == 2
    assert "Partial run: 2 of 4 items" in (tmp_path / "out" / "report.md").read_text(
        encoding="utf-8"
    )
    assert "--resume" in capsys.readouterr().err


def test_resume_finishes_the_run_with_an_uninterrupted_runs_metrics(test_set, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    run_eval(_args(test_set, whole), FakeBot().config, bot=FakeBot())
    run_eval(
        _args(test_set, parts), FakeBot().config, bot=CountingBot("boom?", KeyboardInterrupt())
    )
    bot = CountingBot()
    assert run_eval(_args(test_set, parts, resume=True), bot.config, bot=bot) == 0
    assert bot.asked == ["boom?"]
    resumed, uninterrupted = _report(parts), _report(whole)
    assert (resumed["partial"], resumed["metadata"]["resumed_items"]) == (False, 3)
    assert _without_latency(resumed["overall"]) == _without_latency(uninterrupted["overall"])
    assert [r["id"] for r in _predictions(parts)] == ["q1", "q2", "q3", "q4"]


def test_resume_asks_again_an_item_whose_line_a_crash_cut_short(test_set, tmp_path):
    run_eval(_args(test_set, tmp_path / "out"), FakeBot().config, bot=FakeBot())
    lines = (tmp_path / "out" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    torn = "\n".join(lines[:2]) + "\n" + lines[2][:40]
    (tmp_path / "out" / "predictions.jsonl").write_text(torn, encoding="utf-8")
    bot = CountingBot()
    assert run_eval(_args(test_set, tmp_path / "out", resume=True), bot.config, bot=bot) == 0
    assert bot.asked == ["Who won the cup?", "boom?"]
    assert [r["id"] for r in _predictions(tmp_path / "out")] == ["q1", "q2", "q3", "q4"]


def test_a_crash_outside_the_bot_keeps_the_items_done(test_set, tmp_path, monkeypatch):
    import rag.eval.run as run

    append, written = run.append_jsonl, []

    def append_then_fail(fh, row):
        if written:
            raise OSError("No space left on device")
        written.append(row)
        append(fh, row)

    monkeypatch.setattr(run, "append_jsonl", append_then_fail)
    assert run_eval(_args(test_set, tmp_path / "out"), FakeBot().config, bot=FakeBot()) == 3
    report = _report(tmp_path / "out")
    assert (report["partial"], report["items_done"]) == (True, 1)
    assert report["metadata"]["stopped"] == "crashed: OSError: No space left on device"


def test_out_naming_a_file_is_bad_input_before_asking(test_set, tmp_path, capsys):
    out = tmp_path / "report.txt"
    out.write_text("keep me", encoding="utf-8")
    bot = CountingBot()
    assert run_eval(_args(test_set, out), bot.config, bot=bot) == 2
    assert "this is a file" in capsys.readouterr().err
    assert (bot.asked, out.read_text(encoding="utf-8")) == ([], "keep me")


def test_out_holding_an_earlier_run_needs_resume(test_set, tmp_path, capsys):
    (tmp_path / "notes.md").write_text("x", encoding="utf-8")
    bot = CountingBot()
    assert run_eval(_args(test_set, tmp_path), bot.config, bot=bot) == 2
    assert "add --resume" in capsys.readouterr().err
    assert bot.asked == []


def test_resume_without_out_is_bad_input(test_set, capsys):
    bot = CountingBot()
    args = _args(test_set, "unused", resume=True)
    args.out = None
    assert run_eval(args, bot.config, bot=bot) == 2
    assert "--resume needs --out" in capsys.readouterr().err


def test_export_ragas_naming_a_folder_is_bad_input_before_asking(test_set, tmp_path, capsys):
    bot = CountingBot()
    args = _args(test_set, tmp_path / "out", export_ragas=str(tmp_path))
    assert run_eval(args, bot.config, bot=bot) == 2
    assert "this is a folder" in capsys.readouterr().err
    assert (bot.asked, (tmp_path / "out").exists()) == ([], False)


def test_eval_help_documents_the_exit_statuses():
    from rag.cli import build_parser

    eval_parser = build_parser()._subparsers._group_actions[0].choices["eval"]
    text = eval_parser.format_help()
    assert all(f"  {code}  " in text for code in (0, 1, 2, 3))
    assert "--resume" in text


# --- test-set validation ----------------------------------------------------------------------


def _set_with(tmp_path, *extra: str):
    lines = [json.dumps(i) for i in ITEMS] + list(extra)
    return _write_lines(tmp_path / "set.jsonl", lines)


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


QUOTE_NOT_IN_CORPUS = json.dumps({**ITEMS[0], "id": "q5", "gold_quotes": ["deaths fell to zero"]})


def test_a_gold_quote_not_in_the_corpus_is_warned_once_and_stored(tmp_path, capsys):
    test_set = _set_with(tmp_path, QUOTE_NOT_IN_CORPUS)
    assert run_eval(_args(test_set, tmp_path / "out"), FakeBot().config, bot=FakeBot()) == 0
    assert capsys.readouterr().err.count("gold quote 'deaths fell to zero' is not in") == 1
    (problem,) = _report(tmp_path / "out")["metadata"]["test_set_problems"]
    assert (problem["ids"], problem["malformed"]) == (["q5"], False)
    assert "deaths fell to zero" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_strict_refuses_a_problem_before_asking(tmp_path, capsys):
    bot = CountingBot()
    args = _args(_set_with(tmp_path, QUOTE_NOT_IN_CORPUS), tmp_path / "out", strict=True)
    assert run_eval(args, bot.config, bot=bot) == 2
    assert "line 5: gold quote 'deaths fell to zero'" in capsys.readouterr().err
    assert bot.asked == []


def test_malformed_lines_are_all_listed_and_need_skip_invalid(tmp_path, capsys):
    bot = CountingBot()
    test_set = _set_with(tmp_path, "{oops", '{"id": "q6"}')
    assert run_eval(_args(test_set, tmp_path / "out"), bot.config, bot=bot) == 2
    err = capsys.readouterr().err
    assert "line 5: invalid JSON" in err and "line 6: missing field 'question'" in err
    assert bot.asked == []


def test_skip_invalid_runs_the_valid_items_and_lists_the_rest(tmp_path):
    test_set = _set_with(tmp_path, "{oops", QUOTE_NOT_IN_CORPUS)
    args = _args(test_set, tmp_path / "out", skip_invalid=True)
    assert run_eval(args, FakeBot().config, bot=FakeBot()) == 0
    assert [r["id"] for r in _predictions(tmp_path / "out")] == ["q1", "q2", "q3", "q4"]
    meta = _report(tmp_path / "out")["metadata"]
    assert (meta["skipped_ids"], len(meta["test_set_problems"])) == (["q5"], 2)


# --- metrics honesty --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "abstained", "error", "expected"),
    [
        ("abstain", True, None, ("abstain", None)),
        ("short", False, None, ("extractive", "short")),
        ("extractive", False, None, ("extractive", None)),
        ("extractive (copies the quote)", False, None, ("extractive", "copies the quote")),
        ("generated", False, None, ("generated", None)),
        ("", False, "too long", ("error", None)),
    ],
)
def test_mode_is_one_of_four_with_the_reason_apart(raw, abstained, error, expected):
    answer = Answer("q", "a", abstained, mode=raw)
    assert answer_mode(answer, error) == expected
    assert expected[0] in MODES


def test_an_item_the_bot_fails_on_stays_out_of_retrieval_metrics(test_set, tmp_path):
    bot = CountingBot("Where did officials meet?", RuntimeError("index gone"))
    run_eval(_args(test_set, tmp_path / "out"), bot.config, bot=bot)
    records = _predictions(tmp_path / "out")
    assert (records[1]["mode"], records[1]["metrics"]["retrieval_rank"]) == ("error", None)
    assert _report(tmp_path / "out")["overall"]["hit@1"] == 1.0


def test_records_keep_retrieve_and_generate_seconds(test_set, tmp_path, monkeypatch):
    timed = {"retrieve_s": 0.2, "generate_s": 0.3, "total_s": 0.5}
    ask = FakeBot.ask
    monkeypatch.setattr(
        FakeBot, "ask", lambda self, q, h=None: dataclasses.replace(ask(self, q, h), timings=timed)
    )
    run_eval(_args(test_set, tmp_path / "out"), FakeBot().config, bot=FakeBot())
    first = _predictions(tmp_path / "out")[0]
    assert (first["retrieve_s"], first["generate_s"], first["latency_s"]) == (0.2, 0.3, 0.5)


# --- gates and options ------------------------------------------------------------------------


def test_fail_over_fails_a_slow_run(test_set, tmp_path, capsys):
    args = _args(test_set, tmp_path / "out", fail_over=["latency_p50_s=0.001"])
    assert run_eval(args, FakeBot().config, bot=FakeBot()) == 1
    assert "FAIL --fail-over: latency_p50_s = 0.0100 is above the allowed 0.001" in (
        capsys.readouterr().err
    )


def test_a_rate_gate_out_of_range_is_bad_input(test_set, tmp_path, capsys):
    bot = CountingBot()
    args = _args(test_set, tmp_path / "out", fail_under=["lenient_hit=80"])
    assert run_eval(args, bot.config, bot=bot) == 2
    assert "between 0 and 1" in capsys.readouterr().err
    assert bot.asked == []


@pytest.mark.parametrize("argv", [["-k", "0"], ["--limit", "0"]])
def test_zero_k_or_limit_names_the_option(argv, capsys):
    from rag.cli import build_parser

    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["eval", "set.jsonl", *argv])
    assert info.value.code == 2
    assert f"argument {argv[0]}" in capsys.readouterr().err


def test_every_eval_option_has_help():
    from rag.cli import build_parser

    eval_parser = build_parser()._subparsers._group_actions[0].choices["eval"]
    assert [a.dest for a in eval_parser._actions if not a.help] == []


def test_bad_generator_is_bad_input_before_any_model_loads(test_set, tmp_path, monkeypatch, capsys):
    import rag
    from rag.config import Config

    def no_load(*args, **kwargs):
        raise AssertionError("models were loaded for a generator that cannot exist")

    monkeypatch.setattr(rag, "load", no_load)
    config = Config(generator=str(tmp_path / "missing.gguf"))
    assert run_eval(_args(test_set, tmp_path / "out"), config) == 2
    assert "missing.gguf" in capsys.readouterr().err
