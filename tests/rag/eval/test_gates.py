"""``--fail-under METRIC=VALUE`` parsing and checking."""

from __future__ import annotations

import pytest

from rag.eval.gates import OVER, Gate, failed_gates, parse_gates


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
    assert failure.startswith("--fail-under: lenient_hit = 0.5000 is below")


def test_unmeasured_metric_fails_its_gate():
    (failure,) = failed_gates({"abstain_recall": None}, [Gate("abstain_recall", 0.8)])
    assert "not measured" in failure


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lenient_hit=80", r"lenient_hit is a rate between 0 and 1 \(write 0.8 for 80%\), not 80"),
        ("f1=-1", r"f1 is a rate between 0 and 1"),
    ],
)
def test_a_rate_out_of_range_is_rejected(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_gates([spec])


def test_fail_over_gates_rates_and_latency():
    assert parse_gates(["false_abstain_rate=0.2", "latency_p95_s=5"], OVER) == (
        Gate("false_abstain_rate", 0.2, OVER),
        Gate("latency_p95_s", 5.0, OVER),
    )


def test_negative_latency_is_rejected():
    with pytest.raises(ValueError, match=r"latency_p50_s is in seconds and cannot be negative"):
        parse_gates(["latency_p50_s=-1"], OVER)


def test_a_lower_is_better_metric_under_fail_under_points_to_fail_over():
    with pytest.raises(ValueError, match=r"false_abstain_rate is gated with --fail-over"):
        parse_gates(["false_abstain_rate=0.1"])


def test_fail_over_fails_above_and_passes_at_the_threshold():
    gate = Gate("latency_p95_s", 2.0, OVER)
    assert failed_gates({"latency_p95_s": 2.0}, [gate]) == []
    (failure,) = failed_gates({"latency_p95_s": 3.5}, [gate])
    assert failure == "--fail-over: latency_p95_s = 3.5000 is above the allowed 2"
