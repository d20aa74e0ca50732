"""The printed table of :mod:`benchmarks.issue25`: each row's figure, its target, met or missed."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from . import pushes

__all__ = ["Line", "build_lines", "render"]


class _Plan(Protocol):
    @property
    def stall_replies(self) -> int: ...
    @property
    def wide_callers(self) -> int: ...
    @property
    def wide_size(self) -> int: ...


@dataclass(frozen=True)
class Line:
    """One printed line: the figure, its target, and whether the median meets it."""

    row: str
    figure: float | None
    unit: str
    target: float
    higher_is_better: bool
    detail: str = ""

    @property
    def met(self) -> bool | None:
        if self.figure is None:
            return None
        return self.figure >= self.target if self.higher_is_better else self.figure <= self.target


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _spread(values: Sequence[float]) -> str:
    return "rounds " + " ".join(f"{v:.2f}" for v in values) if values else "not measured"


def build_lines(raw: dict[str, Any], plan: _Plan, backend: str) -> list[Line]:
    """The table's rows, from the raw figures."""
    lines: list[Line] = []
    cold = raw.get("cold")
    if cold is not None and cold["aq_ms"]:
        lines += [
            Line(
                "1. 500 new entries vs SDK, mean",
                _median(cold["ratio_mean"]),
                "x",
                2.0,
                True,
                _spread(cold["ratio_mean"]),
            ),
            Line(
                "1. 500 new entries vs SDK, median",
                _median(cold["ratio_median"]),
                "x",
                2.5,
                True,
                f"{_spread(cold['ratio_median'])}; ms/call aq {_median(cold['aq_ms']) or 0:.2f}, "
                f"SDK {_median(cold['sdk_ms']) or 0:.2f}",
            ),
        ]
    decode = raw.get("decode")
    if decode is not None:
        lines.append(
            Line(
                "2. decode new entries, GC incl.",
                _median([r["us"] for r in decode]),
                "µs",
                3.5,
                False,
                f"{_spread([r['us'] for r in decode])}; CPU "
                f"{_median([r.get('cpu_us', 0.0) for r in decode]):.2f} µs; bare parse "
                f"{_median([r['parse_us'] for r in decode]):.2f}, reading all fields "
                f"{_median([r['read_us'] for r in decode]):.2f} µs",
            )
        )
    if cold is not None and cold["stall"]:
        idle = f"idle loop {_median(cold['idle']) or 0:.2f} ms"
        lines.append(
            Line(
                f"3. stall, {plan.stall_replies} x 5,000 decode",
                _median(cold["stall"]),
                "ms",
                10.0,
                False,
                f"{_spread(cold['stall'])}; longest GC {max(cold['gc_longest']):.1f} ms; {idle}",
            )
        )
    for name, rounds in raw.get("wide", {}).items():
        turns = [r["turn"] for r in rounds]
        lines.append(
            Line(
                f"4. {plan.wide_callers} x {plan.wide_size:,} turn, {name}",
                _median(turns),
                "ms",
                20.0,
                False,
                f"{_spread(turns)}; longest GC {max(r['gc'] for r in rounds):.1f} ms; "
                f"idle loop {_median([r['idle'] for r in rounds]):.2f} ms",
            )
        )
    seq = raw.get("sequential")
    if seq is not None:
        lines.append(
            Line(
                f"5. sequential vs floor ({backend})",
                _median(seq["ratio"]),
                "x",
                0.85,
                True,
                f"{_spread(seq['ratio'])}; calls/s aq {_median(seq['aq']):,.0f}, "
                f"floor {_median(seq['floor']):,.0f}",
            )
        )
    if "pushes" in raw:
        bursts = raw["pushes"]["bursts"]
        for versus, target, text in pushes.TARGETS:
            ratio = bursts.get(f"vs_{versus}")
            if ratio is not None:
                lines.append(
                    Line(
                        f"6. pushes: {text[len('asyncquote ') :]}",
                        ratio["median"],
                        "x",
                        target,
                        True,
                        _spread(ratio["ratios"]),
                    )
                )
        for row in raw["pushes"]["latency"]:
            p99 = row["p99_ms"] if row["final_ok"] and not row["stale"] else None
            lines.append(
                Line(
                    f"6. pushes: p99 at {row['rate']:,}/s, all delivered",
                    p99,
                    "ms",
                    pushes.LATENCY_TARGET_MS,
                    False,
                    f"{_spread(row['p99_rounds'])}; p50 {row['p50_ms']:.2f} ms; "
                    f"{'all' if row['final_ok'] else 'NOT all'} delivered, {row['stale']} stale",
                )
            )
    return lines


def render(lines: Sequence[Line]) -> str:
    """The table as text."""
    head = f"{'row':<44}{'figure':>10}  {'target':<10}{'':<8}detail"
    out = [head, "-" * 100]
    for line in lines:
        figure = "-" if line.figure is None else f"{line.figure:.2f} {line.unit}"
        target = f"{'>=' if line.higher_is_better else '<='} {line.target:g} {line.unit}"
        verdict = {True: "met", False: "MISSED", None: "-"}[line.met]
        out.append(f"{line.row:<44}{figure:>10}  {target:<10}{verdict:<8}{line.detail}")
    return "\n".join(out)
