"""Comparing our DataFrames with the official SDK's, cell by cell."""

from __future__ import annotations

import math
from typing import Any


def cell(value: object) -> tuple[type, object]:
    """A cell with its Python type (``1 == 1.0 == True`` must not pass); NaN equals NaN."""
    if isinstance(value, float) and math.isnan(value):
        return (float, "NaN")
    return (type(value), value)


def cell_mismatches(mine: Any, theirs: Any) -> list[str]:
    """Every cell of ``theirs``' columns where the two frames differ, value or type."""
    return [
        f"{column}[{row}]: ours {a!r}, SDK {b!r}"
        for column in theirs.columns
        for row, (a, b) in enumerate(
            zip(map(cell, mine[column].tolist()), map(cell, theirs[column].tolist()), strict=True)
        )
        if a != b
    ]
