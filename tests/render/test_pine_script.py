"""The generated Pine: parses and lints clean with pyne, runs and draws the server's prices, escapes text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indicator_server.overlays.liquidations.payload import active_levels
from indicator_server.render import generate_pine
from indicator_server.render.pine_script import comment_text, pine_float, pine_string
from tests.conftest import IN_CI
from tests.render.conftest import meta_for


def pyne() -> str:
    found = shutil.which("pyne") or str(Path(sys.executable).with_name("pyne"))
    if not os.access(found, os.X_OK):
        if IN_CI:
            raise FileNotFoundError("pyne (hoox-pyne) is not installed; CI must have the test extras")
        pytest.skip("pyne (hoox-pyne) is not installed")
    return found


def run_pyne(*args: str, source: str, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "generated.pine"
    path.write_text(source, encoding="utf-8")
    return subprocess.run([pyne(), *args, str(path)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def script(estimate):
    bars, result, meta = estimate
    levels, _ = active_levels(result, 40)
    return generate_pine(meta, result, levels, max_clusters=20), result, levels, meta


def test_parses_and_lints_without_a_warning(script, tmp_path):
    source = script[0]
    assert source.startswith("//@version=6\n")
    check = run_pyne("check", source=source, tmp_path=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    lint = run_pyne("lint", "--fail-on", "warnings", source=source, tmp_path=tmp_path)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_pyne_check_catches_a_broken_script(script, tmp_path):
    """The check above can fail: the same script with an unbalanced call does not parse."""
    broken = script[0].replace("box.new(", "box.new((", 1)
    assert run_pyne("check", source=broken, tmp_path=tmp_path).returncode != 0


def test_runs_and_draws_the_server_prices(script, estimate):
    runtime = pytest.importorskip("pynescript.runtime") if not IN_CI else __import__("pynescript.runtime").runtime
    source, result, levels, meta = script
    bars = estimate[0].tail(50)
    ohlcv = [{"time": int(t), "open": o, "high": h, "low": lo, "close": c, "volume": v}
             for t, o, h, lo, c, v in bars[["time", "open", "high", "low", "close", "volume"]].itertuples(index=False)]
    out = runtime.Runtime().run(source, ohlcv, mode="interpret", timeout_seconds=60)
    drawings = out["drawings"]
    boxes = [d for d in drawings if d["type"] == "box"]
    lines = [d for d in drawings if d["type"] == "line"]
    labels = [d for d in drawings if d["type"] == "label"]
    clusters = result.clusters[:20]
    assert len(boxes) == len(clusters) and len(lines) == len(levels) + 2 and len(labels) == 2
    tol = 0.01  # prices are written with two decimals at 100,000
    assert [b["p1"] for b in boxes] == pytest.approx([c["price_high"] for c in clusters], abs=tol)
    assert [b["p2"] for b in boxes] == pytest.approx([c["price_low"] for c in clusters], abs=tol)
    pains = sorted(result.max_pain.items())
    assert [d["p1"] for d in lines[:2]] == pytest.approx([p["price"] for _, p in pains], abs=tol)
    assert [d["p1"] for d in lines[2:]] == pytest.approx([lv["price"] for lv in levels], abs=tol)
    until = meta["freshness"]["last_bar_close"] + 3_600_000
    assert {d["t2"] for d in lines} == {until} and {b["t1"] for b in boxes} == {meta["start"]}
    table = next(d for d in drawings if d["type"] == "table")
    assert any("until" in cell["text"] for cell in table["cells"])


def test_header_says_when_from_what_and_until_when(script):
    source, result, levels, meta = script
    header = source.split("indicator(")[0]
    assert all(line.startswith("//") for line in header.strip().splitlines())
    assert "Generated for: the bar closing" in header and "exchange binance, symbol BTCUSDT, timeframe 1h" in header
    assert f"{meta['bars']} bars" in header and "stale false" in header
    assert f"Model:         {result.model['name']} {result.model['version']}" in header
    assert "notional_scale = 0.0893" in header
    until = meta["freshness"]["last_bar_close"] + 3_600_000
    assert "Current until: " in header and f"({until} ms)" in header
    assert f"{len(result.clusters[:20])} cluster boxes, {len(levels) + 2} lines, 2 labels" in header


def test_hostile_text_cannot_break_out_of_strings_or_comments(estimate, tmp_path):
    bars, result, _ = estimate
    evil = 'X"USDT\n plot(close) // \\'
    meta = meta_for(bars, result, symbol=evil, warnings=["line one\nindicator(\"pwned\")"])
    source = generate_pine(meta, result, [], max_clusters=2)
    header = source.split("\nindicator(")[0]
    assert all(line.startswith("//") for line in header.splitlines())
    assert "\nplot(close)" not in source and 'indicator("pwned")' not in source.split("\n", 1)[0]
    assert run_pyne("check", source=source, tmp_path=tmp_path).returncode == 0


@pytest.mark.parametrize(("value", "decimals", "text"), [(104390.0, 2, "104390.0"), (82613.9475, 2, "82613.95"),
                                                        (0.5, 0, "0.5"), (3.0, 0, "3.0")])
def test_pine_float_keeps_integer_digits(value, decimals, text):
    assert pine_float(value, decimals) == text


@pytest.mark.parametrize(("text", "literal"), [
    ('say "hi"', r'"say \"hi\""'),
    ("back\\slash", r'"back\\slash"'),
    ("two\nlines", r'"two\nlines"'),
    ("bell\x07", '"bell"'),
])
def test_pine_string_escapes(text, literal):
    assert pine_string(text) == literal


def test_comment_text_has_no_line_breaks():
    assert comment_text("a\nb\rc\u2028d") == "a b c d"


def test_respects_pine_drawing_limits(estimate):
    bars, result, meta = estimate
    levels, _ = active_levels(result, 400)
    source = generate_pine(meta, result, levels, max_clusters=100)
    assert source.count("line.new(") <= 500 and source.count("box.new(") <= 500
    with pytest.raises(ValueError, match="too many drawings"):
        generate_pine(meta, result, levels * 2, max_clusters=100)
