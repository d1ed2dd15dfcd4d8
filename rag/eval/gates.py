"""``--fail-under METRIC=VALUE`` quality gates on the overall metrics."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.eval.metrics import HIGHER_IS_BETTER

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gate:
    """Fail the run when ``metric`` is below ``minimum``."""

    metric: str
    minimum: float


def parse_gates(specs: Sequence[str] | None) -> tuple[Gate, ...]:
    """Parse ``METRIC=VALUE`` strings.

    Raises:
        ValueError: malformed spec, a value that is not a number, or an unknown metric name
            (the message lists the valid names).
    """
    gates = []
    for spec in specs or ():
        name, sep, raw = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--fail-under {spec!r}: expected METRIC=VALUE, e.g. lenient_hit=0.8")
        if name not in HIGHER_IS_BETTER:
            raise ValueError(
                f"--fail-under {spec!r}: unknown metric {name!r}; valid names: "
                + ", ".join(HIGHER_IS_BETTER)
            )
        try:
            minimum = float(raw)
        except ValueError:
            minimum = math.nan
        if not math.isfinite(minimum):
            raise ValueError(f"--fail-under {spec!r}: {raw.strip()!r} is not a number")
        gates.append(Gate(name, minimum))
    return tuple(gates)


def failed_gates(overall: Mapping[str, Any], gates: Sequence[Gate]) -> list[str]:
    """A message for each gate the metrics do not pass; a metric not measured fails."""
    failures = []
    for gate in gates:
        value = overall.get(gate.metric)
        if value is None:
            failures.append(
                f"{gate.metric} was not measured (no items it applies to); required >= "
                f"{gate.minimum:g}"
            )
        elif value < gate.minimum:
            failures.append(f"{gate.metric} = {value:.4f} is below the required {gate.minimum:g}")
    return failures
