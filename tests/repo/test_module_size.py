"""No hand-written module of the package is over 450 lines (issue 22, item 7).

A module that long has more than one job; split it along a seam into a
private module of its own. The generated protobuf code (``_pb``) is not
written by hand and is left out.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[2] / "asyncquote"
_MAX_LINES = 450


def _hand_written_modules() -> list[Path]:
    return sorted(
        path for path in _PACKAGE.rglob("*.py") if "_pb" not in path.relative_to(_PACKAGE).parts
    )


def test_the_package_has_modules_to_measure() -> None:
    # Guards the test below against passing on an empty or moved folder.
    assert len(_hand_written_modules()) > 50


def test_no_hand_written_module_is_over_450_lines() -> None:
    too_long = {
        str(path.relative_to(_PACKAGE.parent)): lines
        for path in _hand_written_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > _MAX_LINES
    }
    assert too_long == {}, f"split these along a seam (at most {_MAX_LINES} lines each)"
