"""Smoke runs of the benchmarks: they run and report; no timing is asserted here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import quota_efficiency


def test_quota_efficiency_quick_run_reports_both_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "quota.json"
    assert quota_efficiency.main(["--quick", "--json", str(out)]) == 0
    limited, baseline = json.loads(out.read_text())
    assert limited["rejections"] == 0
    assert limited["succeeded"] == limited["calls"] == 30
    assert baseline["rejections"] == baseline["failed"] == 20
    assert "of the quota used" in capsys.readouterr().out
