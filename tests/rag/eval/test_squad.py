"""SQuAD v2.0 parity: the report's figures against the official script's logic.

``official_eval`` below re-implements the published SQuAD v2.0 evaluation script
(``evaluate-v2.0.py``) from its definition, independently of ``rag.eval.squad``: it reads the
dataset JSON, ``squad_predictions.json`` and ``squad_na_probs.json`` as the script does.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import string

import pytest

from rag.abstain import Verdict
from rag.config import PROJECT_ROOT, Config
from rag.eval.metrics import normalize_answer as ours
from rag.eval.run import run_eval
from rag.eval.squad import official_normalize, squad_figures
from rag.pipeline import SearchResult
from rag.types import Answer, Chunk, Citation, Document, Passage

# --- the official script's logic ------------------------------------------------------------


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def get_tokens(s):
    return normalize_answer(s).split() if s else []


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def get_raw_scores(dataset, preds):
    exact_scores, f1_scores = {}, {}
    for article in dataset:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                qid = qa["id"]
                gold_answers = [a["text"] for a in qa["answers"] if normalize_answer(a["text"])]
                if not gold_answers:
                    gold_answers = [""]
                a_pred = preds[qid]
                exact_scores[qid] = max(compute_exact(a, a_pred) for a in gold_answers)
                f1_scores[qid] = max(compute_f1(a, a_pred) for a in gold_answers)
    return exact_scores, f1_scores


def apply_no_ans_threshold(scores, na_probs, qid_to_has_ans, na_prob_thresh):
    new_scores = {}
    for qid, s in scores.items():
        pred_na = na_probs[qid] > na_prob_thresh
        new_scores[qid] = float(not qid_to_has_ans[qid]) if pred_na else s
    return new_scores


def make_eval_dict(exact_scores, f1_scores, qid_list=None):
    qid_list = list(exact_scores) if qid_list is None else qid_list
    total = len(qid_list)
    return {
        "exact": 100.0 * sum(exact_scores[k] for k in qid_list) / total,
        "f1": 100.0 * sum(f1_scores[k] for k in qid_list) / total,
        "total": total,
    }


def find_best_thresh(preds, scores, na_probs, qid_to_has_ans):
    num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
    cur_score = best_score = num_no_ans
    best_thresh = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores:
            continue
        # a no-answer question answered costs one; answered "" nothing
        cur_score += scores[qid] if qid_to_has_ans[qid] else (-1 if preds[qid] else 0)
        if cur_score > best_score:
            best_score, best_thresh = cur_score, na_probs[qid]
    return 100.0 * best_score / len(scores), best_thresh


def official_eval(dataset, preds, na_probs, na_prob_thresh=1.0):
    """The official script's output dict (percentages), for ``dataset = squad["data"]``."""
    qid_to_has_ans = {
        qa["id"]: bool(qa["answers"])
        for article in dataset
        for p in article["paragraphs"]
        for qa in p["qas"]
    }
    exact_raw, f1_raw = get_raw_scores(dataset, preds)
    exact_thresh = apply_no_ans_threshold(exact_raw, na_probs, qid_to_has_ans, na_prob_thresh)
    f1_thresh = apply_no_ans_threshold(f1_raw, na_probs, qid_to_has_ans, na_prob_thresh)
    out = make_eval_dict(exact_thresh, f1_thresh)
    for name, wanted in (("HasAns", True), ("NoAns", False)):
        qids = [k for k, v in qid_to_has_ans.items() if v == wanted]
        if qids:
            for key, value in make_eval_dict(exact_thresh, f1_thresh, qids).items():
                out[f"{name}_{key}"] = value
    out["best_exact"], out["best_exact_thresh"] = find_best_thresh(
        preds, exact_raw, na_probs, qid_to_has_ans
    )
    out["best_f1"], out["best_f1_thresh"] = find_best_thresh(
        preds, f1_raw, na_probs, qid_to_has_ans
    )
    return out


# --- a fixed SQuAD v2 file and a fake bot with known answers ---------------------------------

TEXT = (
    "Officials met in Beijing in late January. Overdose deaths reached 105,000 last year. "
    "China controlled fentanyl in 2019."
)
SENTENCES = [
    "Officials met in Beijing in late January.",
    "Overdose deaths reached 105,000 last year.",
    "China controlled fentanyl in 2019.",
]
# question: (gold answers, the bot's answer or None to abstain, evidence similarity)
CASES = {
    "s1": ("How many people died?", ["105,000"], "105,000 [1]", 0.9),
    "s2": (
        "Where did officials meet?",
        ["Beijing", "in Beijing"],
        "Officials met in Beijing.",
        0.7,
    ),
    "s3": ("When was fentanyl controlled?", ["2019"], None, 0.2),
    "s4": ("Who won the cup?", [], None, 0.1),
    "s5": ("What did Mexico say?", [], "China controlled fentanyl in 2019. [1]", 0.6),
    "s6": ("How many deaths?", ["105,000"], "105,000 people [1]", 0.8),
}
# Worked by hand from the official rules (fractions):
# exact per item 1, 0, 0, 1, 0, 0; f1 1, 2/3 (best of 1/4-precision "beijing" and
# "in beijing"), 0, 1, 0, 2/3. No na_prob exceeds the default threshold 1.0.
# find_best_thresh starts at 2 (no-answer items), na_probs in order s1 .1, s6 .2, s2 .3, s5 .4,
# s3 1, s4 1: exact 3 at .1 then 3, 3, 2 (s5 answers a no-answer question) -> 3/6 at 0.1;
# f1 3 at .1, 3 2/3 at .2, 4 1/3 at .3, then 3 1/3 ... -> 13/18 at 0.3.
EXPECTED = {
    "exact": 2 / 6,
    "f1": (1 + 2 / 3 + 0 + 1 + 0 + 2 / 3) / 6,
    "HasAns_exact": 1 / 4,
    "HasAns_f1": (1 + 2 / 3 + 0 + 2 / 3) / 4,
    "NoAns_exact": 1 / 2,
    "NoAns_f1": 1 / 2,
    "best_exact": 3 / 6,
    "best_exact_thresh": 0.1,
    "best_f1": 13 / 18,
    "best_f1_thresh": 0.3,
}


def squad_file(cases=CASES) -> dict:
    qas = []
    for qid, (question, golds, _, _) in cases.items():
        answers = [{"text": g, "answer_start": TEXT.index(g)} for g in golds]
        qas.append(
            {"id": qid, "question": question, "answers": answers, "is_impossible": not golds}
        )
    return {
        "version": "v2.0",
        "data": [{"title": "t", "paragraphs": [{"context": TEXT, "qas": qas}]}],
    }


def _citation(sentence: int) -> Citation:
    quote = SENTENCES[sentence]
    start = TEXT.index(quote)
    return Citation(1, quote, "doc.txt", start, start + len(quote), 0, 0.9)


class SquadBot:
    """Answers each question of CASES as written there, citing the sentence it names."""

    config = Config(generator="none")
    model_name = "fake"
    documents = {"doc.txt": Document("doc.txt", TEXT, "0" * 64)}

    def __init__(self, cases=CASES):
        self.by_question = {q: (answer, sim) for q, _, answer, sim in cases.values()}

    def _sentence(self, question: str) -> int:
        answer = self.by_question[question][0] or ""
        return next((i for i, s in enumerate(SENTENCES) if answer[:7] in s), 2)

    def ask(self, question, history=None):
        answer, _ = self.by_question[question]
        if answer is None:
            return Answer(question, "The article doesn't say.", True, timings={"total_s": 0.01})
        return Answer(
            question,
            answer,
            False,
            citations=(_citation(self._sentence(question)),),
            timings={"total_s": 0.01},
        )

    def search(self, question, history=None, k=None):
        first = self._sentence(question)
        order = [first, *(i for i in range(3) if i != first)]
        passages = []
        for rank, s in enumerate(order, start=1):
            c = _citation(s)
            chunk = Chunk(s, "doc.txt", c.start, c.end, 0, c.quote, (s,))
            passages.append(Passage(chunk, score=1 / rank, rank=rank))
        verdict = Verdict(False, self.by_question[question][1], "")
        return SearchResult(question, question, tuple(passages), (), verdict, 0.001)


def _args(path, out, **changes):
    values = {
        "file": str(path),
        "out": str(out),
        "limit": None,
        "fail_under": [],
        "export_ragas": None,
    }
    return argparse.Namespace(**{**values, **changes})


def _read(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def squad_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("squad")
    path = folder / "squad.json"
    path.write_text(json.dumps(squad_file()), encoding="utf-8")
    bot = SquadBot()
    assert run_eval(_args(path, folder / "out"), bot.config, bot=bot) == 0
    return path, folder / "out"


def test_official_logic_gives_the_hand_computed_figures(squad_run):
    path, out = squad_run
    preds, probs = _read(out / "squad_predictions.json"), _read(out / "squad_na_probs.json")
    figures = official_eval(_read(path)["data"], preds, probs)
    for name, value in EXPECTED.items():
        scale = 1 if name.endswith("thresh") else 100
        assert figures[name] == pytest.approx(value * scale), name


def test_the_report_matches_the_official_logic(squad_run):
    path, out = squad_run
    official = _read(out / "report.json")["squad_v2"]["official"]
    for name, value in EXPECTED.items():
        assert official[name] == pytest.approx(value), name
    assert (official["HasAns_total"], official["NoAns_total"]) == (4, 2)


def test_squad_files_hold_answers_without_markers_and_no_answer_scores(squad_run):
    _, out = squad_run
    assert _read(out / "squad_predictions.json") == {
        "s1": "105,000",
        "s2": "Officials met in Beijing.",
        "s3": "",
        "s4": "",
        "s5": "China controlled fentanyl in 2019.",
        "s6": "105,000 people",
    }
    assert _read(out / "squad_na_probs.json") == {
        "s1": 0.1,
        "s2": 0.3,
        "s3": 1.0,
        "s4": 1.0,
        "s5": 0.4,
        "s6": 0.2,
    }


def test_report_md_shows_official_and_our_normalisation_side_by_side(squad_run):
    text = (squad_run[1] / "report.md").read_text(encoding="utf-8")
    assert "| figure | official normalisation | ours |" in text
    assert "| best f1 threshold | 0.300 | 0.300 |" in text


def test_curly_quotes_count_as_punctuation_only_in_our_normalisation(tmp_path):
    record = {"id": "q", "gold_answers": ["Beijing"], "answer": "“Beijing”", "abstained": False}
    assert squad_figures([record], official_normalize)["exact"] == 0.0
    assert squad_figures([record], ours)["exact"] == 1.0


# --- the dev set as SQuAD v2, with the real pipeline ------------------------------------------

DEV = PROJECT_ROOT / "data" / "qa" / "dev.jsonl"
ARTICLE = PROJECT_ROOT / "data" / "article.txt"


def dev_as_squad(dev_lines: list[dict], article: str) -> dict:
    """The dev set as one SQuAD v2 paragraph whose context is the whole article; each answer's
    ``answer_start`` is its first occurrence inside the item's first gold quote."""
    qas = []
    for item in dev_lines:
        answers = []
        quote_at = article.find(item["gold_quotes"][0]) if item["gold_quotes"] else -1
        for text in item["answers"]:
            start = article.find(text, max(quote_at, 0))
            answers.append(
                {"text": text, "answer_start": start if start >= 0 else article.find(text)}
            )
        qas.append(
            {
                "id": item["id"],
                "question": item["question"],
                "answers": answers,
                "is_impossible": not answers,
            }
        )
    return {
        "version": "v2.0",
        "data": [{"title": "article", "paragraphs": [{"context": article, "qas": qas}]}],
    }


@pytest.mark.timeout(3600)
def test_official_parity_on_the_dev_set_real(dev_run):
    # The whole dev set's run (shared with the floors gate), scored by the official script
    # against the same items written as SQuAD v2.
    lines = [
        json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    assert {bool(item["answers"]) for item in lines} == {True, False}
    out = dev_run.out
    data = dev_as_squad(lines, ARTICLE.read_text(encoding="utf-8"))
    figures = official_eval(
        data["data"],
        _read(out / "squad_predictions.json"),
        _read(out / "squad_na_probs.json"),
    )
    report = _read(out / "report.json")["squad_v2"]["official"]
    print(json.dumps({"official_script": figures, "report": report}, indent=1))
    for name in EXPECTED:
        scale = 1 if name.endswith("thresh") else 100
        assert report[name] * scale == pytest.approx(figures[name], abs=0.01), name


# --- gold locations from answer_start ---------------------------------------------------------

CHINA_TEXT = "Intro line.\n\nChina met officials. Officials say China controlled fentanyl.\n"
CHINA_CONTEXT = "China met officials. Officials say China controlled fentanyl."


def _china_item(tmp_path):
    from rag.eval.formats import load_items

    start = CHINA_CONTEXT.index("China", 1)  # the second "China"
    qa = {
        "id": "c1",
        "question": "Who controlled fentanyl?",
        "answers": [{"text": "China", "answer_start": start}],
    }
    data = {"data": [{"paragraphs": [{"context": CHINA_CONTEXT, "qas": [qa]}]}]}
    path = tmp_path / "china.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    (item,) = load_items(path)
    return item


def _span_passage(rank: int, text: str) -> Passage:
    start = CHINA_TEXT.index(text)
    return Passage(Chunk(rank, "doc.txt", start, start + len(text), 0, text, ()), 1 / rank, rank)


def test_squad_gold_is_the_answer_start_span_not_every_occurrence(tmp_path):
    from rag.eval.run import make_record

    item = _china_item(tmp_path)
    first, second = "China met officials.", "Officials say China controlled fentanyl."
    at = CHINA_TEXT.index(first)
    cited = Citation(1, first, "doc.txt", at, at + len(first), 0, 0.9)
    answer = Answer(item.question, "China met officials. [1]", False, citations=(cited,))
    passages = [_span_passage(1, first), _span_passage(2, second)]
    record = make_record(item, answer, passages, {"doc.txt": CHINA_TEXT}, 0.1)
    gold_at = CHINA_TEXT.index("China controlled")
    assert record["gold_spans"] == [{"source": "doc.txt", "start": gold_at, "end": gold_at + 5}]
    assert (record["metrics"]["retrieval_rank"], record["metrics"]["citation_recall"]) == (2, 0.0)
