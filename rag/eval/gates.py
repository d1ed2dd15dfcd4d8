"""Quality gates on the overall metrics: ``--fail-under METRIC=VALUE`` for metrics where
higher is better, ``--fail-over METRIC=VALUE`` for error rates and latency."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.eval.metrics import HIGHER_IS_BETTER, LOWER_IS_BETTER, SECONDS_METRICS

logger = logging.getLogger(__name__)

UNDER, OVER = "--fail-under", "--fail-over"
GATEABLE = {UNDER: HIGHER_IS_BETTER, OVER: LOWER_IS_BETTER}
EXAMPLES = {UNDER: "lenient_hit=0.8", OVER: "latency_p95_s=5"}


@dataclass(frozen=True)
class Gate:
    """Fail the run when ``metric`` is below ``threshold`` (``--fail-under``) or above it
    (``--fail-over``)."""

    metric: str
    threshold: float
    option: str = UNDER


def parse_gates(specs: Sequence[str] | None, option: str = UNDER) -> tuple[Gate, ...]:
    """Parse ``METRIC=VALUE`` strings given to ``option``.

    Raises:
        ValueError: malformed spec, a value that is not a number or out of the metric's range
            (rates in [0, 1], seconds >= 0), or a metric this option cannot gate (the message
            lists the valid names).
    """
    gates = []
    for spec in specs or ():
        name, sep, raw = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"{option} {spec!r}: expected METRIC=VALUE, e.g. {EXAMPLES[option]}")
        if name not in GATEABLE[option]:
            other = OVER if option == UNDER else UNDER
            hint = f" ({name} is gated with {other})" if name in GATEABLE[other] else ""
            raise ValueError(
                f"{option} {spec!r}: unknown metric {name!r}{hint}; valid names: "
                + ", ".join(GATEABLE[option])
            )
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"{option} {spec!r}: {raw.strip()!r} is not a number")
        check_range(name, value, f"{option} {spec!r}")
        gates.append(Gate(name, value, option))
    return tuple(gates)


def check_range(metric: str, value: float, where: str) -> None:
    """Refuse a threshold no run could meet or fail: a rate outside [0, 1], negative seconds.

    Raises:
        ValueError: ``value`` is out of ``metric``'s range.
    """
    if metric in SECONDS_METRICS:
        if value < 0:
            raise ValueError(f"{where}: {metric} is in seconds and cannot be negative")
    elif not 0 <= value <= 1:
        raise ValueError(
            f"{where}: {metric} is a rate between 0 and 1 (write 0.8 for 80%), not {value:g}"
        )


def gate_failure(overall: Mapping[str, Any], gate: Gate) -> str | None:
    """Why the metrics fail ``gate``, or ``None`` if they pass; a metric not measured fails."""
    value = overall.get(gate.metric)
    need = ">=" if gate.option == UNDER else "<="
    if value is None:
        return (
            f"{gate.metric} was not measured (no items it applies to); required {need} "
            f"{gate.threshold:g}"
        )
    if gate.option == UNDER and value < gate.threshold:
        return f"{gate.metric} = {value:.4f} is below the required {gate.threshold:g}"
    if gate.option == OVER and value > gate.threshold:
        return f"{gate.metric} = {value:.4f} is above the allowed {gate.threshold:g}"
    return None


def failed_gates(overall: Mapping[str, Any], gates: Sequence[Gate]) -> list[str]:
    """A message for each gate the metrics do not pass, prefixed with its option."""
    failures = ((gate, gate_failure(overall, gate)) for gate in gates)
    return [f"{gate.option}: {message}" for gate, message in failures if message is not None]
