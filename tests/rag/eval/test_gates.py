"""``--fail-under METRIC=VALUE`` parsing and checking."""

from __future__ import annotations

import pytest

from rag.eval.gates import Gate, failed_gates, parse_gates


def test_parse_gates_reads_metric_and_minimum():
    assert parse_gates(["lenient_hit=0.8", "quote_verbatim=1.0"]) == (
        Gate("lenient_hit", 0.8),
        Gate("quote_verbatim", 1.0),
    )


def test_unknown_metric_lists_valid_names():
    with pytest.raises(
        ValueError, match=r"unknown metric 'accuracy'; valid names: .*abstain_recall"
    ):
        parse_gates(["accuracy=0.5"])


def test_missing_equals_sign_is_rejected():
    with pytest.raises(ValueError, match=r"expected METRIC=VALUE"):
        parse_gates(["lenient_hit"])


def test_value_must_be_a_number():
    with pytest.raises(ValueError, match=r"'high' is not a number"):
        parse_gates(["lenient_hit=high"])


def test_gate_passes_at_the_threshold():
    assert failed_gates({"lenient_hit": 0.8}, [Gate("lenient_hit", 0.8)]) == []


def test_gate_below_threshold_fails_with_its_name():
    (failure,) = failed_gates({"lenient_hit": 0.5}, [Gate("lenient_hit", 0.8)])
    assert failure.startswith("lenient_hit = 0.5000 is below")


def test_unmeasured_metric_fails_its_gate():
    (failure,) = failed_gates({"abstain_recall": None}, [Gate("abstain_recall", 0.8)])
    assert "not measured" in failure
