"""Answer, quote, citation, retrieval and abstention metrics on hand-made cases."""

from __future__ import annotations

import pytest

from rag.eval.metrics import (
    Gold,
    Span,
    aggregate,
    aggregate_by_type,
    answer_scores,
    citation_precision,
    citation_recall,
    exact_match,
    f1_score,
    first_hit_rank,
    is_verbatim,
    item_scores,
    lenient_hit,
    normalize_answer,
    overlaps,
    percentile,
)

SOURCE = "The cat sat on the mat. Dogs bark at night. Overdose deaths reached 105,000 last year."
SOURCES = {"doc.txt": SOURCE}


def _span(text: str, source: str = "doc.txt") -> Span:
    start = SOURCE.index(text)
    return Span(source, start, start + len(text), text)


def _scores(**changes) -> dict:
    base = {
        "answerable": True,
        "abstained": False,
        "error": False,
        "exact_match": 1.0,
        "f1": 1.0,
        "lenient_hit": 1.0,
        "quotes_checked": 1,
        "quotes_verbatim": 1,
        "n_citations": 1,
        "citation_chars": 10,
        "citation_recall": 1.0,
        "citation_precision": 1.0,
        "retrieval_rank": 1,
        "latency_s": 1.0,
    }
    return {**base, **changes}


def test_normalize_strips_curly_quotes_punctuation_articles_and_case():
    assert normalize_answer("  “The U.S.’s  ‘Fentanyl’ crisis!” ") == "uss fentanyl crisis"


def test_normalize_drops_articles_only_as_words():
    assert normalize_answer("An apple and a theme") == "apple and theme"


def test_exact_match_ignores_curly_quotes_and_punctuation():
    assert exact_match("“105,000.”", ["105000"]) == 1.0


def test_exact_match_takes_any_gold_answer():
    assert exact_match("Beijing", ["Washington", "beijing"]) == 1.0


def test_exact_match_fails_on_extra_words():
    assert exact_match("in Beijing", ["Beijing"]) == 0.0


def test_f1_is_token_overlap():
    # pred tokens: deaths reached 105000; gold: 105000 deaths -> p=2/3, r=1, f1=0.8
    assert f1_score("Deaths reached 105,000.", ["105,000 deaths"]) == pytest.approx(0.8)


def test_f1_is_max_over_gold_answers():
    assert f1_score("in Beijing", ["Washington", "Beijing"]) == pytest.approx(2 / 3)


def test_lenient_hit_when_gold_is_inside_answer():
    assert lenient_hit("Deaths reached “105,000” last year. [1]", ["105,000"]) == 1.0


def test_lenient_hit_needs_whole_tokens():
    assert lenient_hit("They discussed the cause", ["us"]) == 0.0


def test_unanswerable_scores_one_when_abstained():
    assert answer_scores("The article doesn't say.", True, False, []) == {
        "exact_match": 1.0,
        "f1": 1.0,
        "lenient_hit": 1.0,
    }


def test_unanswerable_scores_zero_when_answered():
    scores = answer_scores("Argentina", False, False, [])
    assert set(scores.values()) == {0.0}


def test_answerable_scores_zero_when_abstained():
    scores = answer_scores("The article doesn't say 105,000.", True, True, ["105,000"])
    assert set(scores.values()) == {0.0}


def test_citation_markers_do_not_count_against_exact_match():
    assert answer_scores("105,000 [1]", False, True, ["105,000"])["exact_match"] == 1.0


def test_answerable_without_gold_answers_is_not_scored():
    assert answer_scores("anything", False, True, [])["f1"] is None


def test_verbatim_quote_matches_source_offsets():
    assert is_verbatim(_span("Dogs bark at night."), SOURCES)


def test_quote_with_shifted_offsets_is_not_verbatim():
    span = _span("Dogs bark at night.")
    assert not is_verbatim(Span("doc.txt", span.start + 1, span.end + 1, span.text), SOURCES)


def test_quote_from_unknown_source_is_not_verbatim():
    assert not is_verbatim(_span("Dogs bark at night.", source="other.txt"), SOURCES)


def test_gold_locates_every_occurrence():
    gold = Gold.of(["the"], {"a.txt": "the cat and the dog"})
    assert [(s.start, s.end) for s in gold.spans] == [(0, 3), (12, 15)]


def test_overlap_by_character_span():
    gold = Gold.of(["Dogs bark"], SOURCES)
    assert overlaps(_span("bark at night."), gold)


def test_overlap_by_normalised_containment_of_reworded_quotes():
    gold = Gold.of(["“Dogs bark at night”"], SOURCES)  # curly quotes: not found by offsets
    assert gold.spans == ()
    assert overlaps(_span("Dogs bark at night."), gold)


def test_no_overlap_for_a_different_sentence():
    gold = Gold.of(["Dogs bark at night."], SOURCES)
    assert not overlaps(_span("The cat sat on the mat."), gold)


def test_citation_recall_is_one_if_any_quote_overlaps():
    gold = Gold.of(["105,000"], SOURCES)
    quotes = [_span("The cat sat on the mat."), _span("Overdose deaths reached 105,000 last year.")]
    assert citation_recall(quotes, gold) == 1.0


def test_citation_recall_is_zero_without_quotes():
    assert citation_recall([], Gold.of(["105,000"], SOURCES)) == 0.0


def test_citation_precision_is_share_of_overlapping_quotes():
    gold = Gold.of(["105,000"], SOURCES)
    quotes = [_span("The cat sat on the mat."), _span("Overdose deaths reached 105,000 last year.")]
    assert citation_precision(quotes, gold) == 0.5


def test_citation_metrics_do_not_apply_without_gold_quotes():
    gold = Gold.of([], SOURCES)
    assert citation_recall([_span("Dogs bark at night.")], gold) is None


def test_first_hit_rank_is_one_based():
    gold = Gold.of(["Dogs bark"], SOURCES)
    retrieved = [_span("The cat sat on the mat."), _span("Dogs bark at night.")]
    assert first_hit_rank(retrieved, gold) == 2


def test_first_hit_rank_is_zero_on_a_miss():
    assert first_hit_rank([_span("The cat sat on the mat.")], Gold.of(["Dogs"], SOURCES)) == 0


def test_percentile_interpolates_like_numpy():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)


def test_item_scores_count_verbatim_quotes_over_everything_shown():
    good = _span("Dogs bark at night.")
    bad = Span("doc.txt", 0, 5, "Dogs!")
    scores = item_scores(
        answer="Dogs bark at night. [1]",
        abstained=False,
        answerable=True,
        golds=["dogs bark"],
        gold=Gold.of(["Dogs bark at night."], SOURCES),
        citations=[good],
        shown=[good, bad],
        retrieved=[good],
        sources=SOURCES,
        latency_s=0.5,
    )
    assert (scores["quotes_checked"], scores["quotes_verbatim"]) == (2, 1)


def test_aggregate_quote_verbatim_is_over_all_quotes():
    overall = aggregate(
        [_scores(quotes_checked=3, quotes_verbatim=3), _scores(quotes_checked=1, quotes_verbatim=0)]
    )
    assert overall["quote_verbatim"] == 0.75


def test_aggregate_hit_at_k_and_mrr_from_ranks():
    overall = aggregate(
        [_scores(retrieval_rank=1), _scores(retrieval_rank=3), _scores(retrieval_rank=0)]
    )
    assert (overall["hit@1"], overall["hit@3"], overall["hit@10"]) == (1 / 3, 2 / 3, 2 / 3)
    assert overall["mrr"] == pytest.approx((1 + 1 / 3) / 3)


def test_aggregate_abstention_rates():
    overall = aggregate(
        [
            _scores(answerable=False, abstained=True),
            _scores(answerable=False, abstained=False),
            _scores(answerable=True, abstained=True, retrieval_rank=None),
            _scores(answerable=True, abstained=False),
        ]
    )
    assert overall["abstain_recall"] == 0.5
    assert overall["abstain_precision"] == 0.5
    assert overall["false_abstain_rate"] == 0.5


def test_aggregate_leaves_unmeasured_metrics_as_none():
    overall = aggregate([_scores(answerable=True)])
    assert overall["abstain_recall"] is None


def test_aggregate_means_skip_none():
    overall = aggregate([_scores(f1=None), _scores(f1=0.5)])
    assert overall["f1"] == 0.5


def test_aggregate_by_type_groups_items():
    per_type = aggregate_by_type(["b", "a", "b"], [_scores(), _scores(), _scores(f1=0.0)])
    assert list(per_type) == ["a", "b"]
    assert per_type["b"]["f1"] == 0.5


def test_lenient_hit_splits_words_at_punctuation():
    assert lenient_hit("a Vienna-based organization", ["Vienna"]) == 1.0


def test_lenient_hit_splits_possessives():
    assert (
        lenient_hit("the Ministry of Public Security’s institute", ["Ministry of Public Security"])
        == 1.0
    )


def test_lenient_hit_still_needs_whole_words_after_splitting():
    assert lenient_hit("a Viennese organization", ["Vienna"]) == 0.0


def test_an_error_item_has_no_retrieval_rank():
    scores = item_scores(
        answer="",
        abstained=False,
        answerable=True,
        golds=["dogs bark"],
        gold=Gold.of(["Dogs bark at night."], SOURCES),
        citations=[],
        shown=[],
        retrieved=[],
        sources=SOURCES,
        latency_s=0.5,
        error=True,
    )
    assert (scores["retrieval_rank"], scores["lenient_hit"]) == (None, 0.0)


def test_error_items_stay_out_of_hit_at_k():
    overall = aggregate([_scores(), _scores(error=True, retrieval_rank=None, lenient_hit=0.0)])
    assert (overall["hit@10"], overall["errors"], overall["lenient_hit"]) == (1.0, 1, 0.5)
