"""``indicator-server accuracy``: every column for every predictor, the table's shape, missing data refused."""

from __future__ import annotations

import json

import pytest

from indicator_server.accuracy.predictors import PREDICTORS, TRUTH
from indicator_server.accuracy.real_scores import OI_ONLY, REAL_COLUMNS
from indicator_server.accuracy.sim_scores import SIM_COLUMNS, regime_names
from indicator_server.cli import main
from tests.conftest import SHARED_DATA, shared_data

# columns a predictor may leave undefined in one quick case (no cluster of that side; no map for the baseline
# before the open-interest file starts): present in the JSON, possibly null
MAY_BE_NULL = {"largest_cluster_error_pct_long", "largest_cluster_error_pct_short", "where_capture",
               "where_coverage", "where_lift"}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["accuracy", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def quick_sim_json():
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["accuracy", "--quick", "--json", "--no-real"]) == 0
    return json.loads(buf.getvalue())


def test_quick_json_scores_every_predictor_on_every_regime(quick_sim_json):
    doc = quick_sim_json
    assert doc["command"] == "indicator-server accuracy --quick --json --no-real" and doc["real"] is None
    assert set(doc["sim"]) == set(regime_names()) == {"default", "long-hold", "scalping", "crowded-trend", "range"}
    for regime, part in doc["sim"].items():
        assert part["cases"], regime
        assert set(part["medians"]) == {*PREDICTORS, TRUTH}
        for name, row in part["medians"].items():
            assert set(SIM_COLUMNS) <= set(row), (regime, name)
            for col in SIM_COLUMNS:
                if col not in MAY_BE_NULL:
                    assert isinstance(row[col], float), (regime, name, col, row[col])
            assert 0 <= row["capture"] <= 1 and 0 <= row["coverage"] <= 1
        truth = part["medians"][TRUTH]
        assert truth["map_spearman_long"] == pytest.approx(1.0) and truth["timing_spearman_short"] == pytest.approx(1)
        assert truth["lift"] > 1.5  # the true positions' own clusters are far better than chance


def test_scored_cases_are_held_out(quick_sim_json):
    from indicator_server.accuracy.sim_scores import TUNE_END, TUNING_SEEDS, ms

    for part in quick_sim_json["sim"].values():
        for case in part["cases"]:
            assert case["end"] >= TUNE_END
            assert not any(case["symbol"].endswith(f"{s}USDT") for s in TUNING_SEEDS)
            # causal: the calibration saw bars up to the scoring bar only
            assert case["calibration"]["data"]["last"] == ms(case["end"])


def test_the_table_prints_the_command_and_one_block_per_regime(capsys):
    code, out, _ = _run(capsys, "--quick", "--no-real", "--regime", "default")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "$ indicator-server accuracy --quick --regime default --no-real"
    assert sum(line.startswith("sim regime ") for line in lines) == 1
    for name in PREDICTORS:
        assert any(line.startswith(name) for line in lines), name
    assert any(line.startswith("target") for line in lines)


def test_real_data_block_has_every_column_for_every_predictor(capsys):
    shared_data("binance-btcusdt", "klines-1h.csv")
    shared_data("coinglass-daily", "liquidation_agg_1d.csv")
    code, out, _ = _run(capsys, "--quick", "--json", "--regime", "default", "--data", str(SHARED_DATA))
    assert code == 0
    real = json.loads(out)["real"]
    assert set(real["medians"]) == {*PREDICTORS, OI_ONLY}
    for name, row in real["medians"].items():
        assert set(REAL_COLUMNS) <= set(row), name
        for col in set(REAL_COLUMNS) - MAY_BE_NULL:
            assert isinstance(row[col], float), (name, col)
    assert real["medians"][PREDICTORS[0]]["timing_spearman_long"] > 0.5
    assert real["medians"][PREDICTORS[0]]["where_n"] > 0


def test_missing_data_folder_exits_2_with_a_message(capsys, tmp_path):
    code, out, err = _run(capsys, "--quick", "--data", str(tmp_path / "nowhere"))
    assert code == 2 and out == ""
    assert "real data not found" in err and "--no-real" in err


def test_default_data_folder_comes_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("INDICATOR_SHARED_DATA", str(tmp_path))
    code, _, err = _run(capsys, "--quick")
    assert code == 2 and str(tmp_path) in err


def test_unknown_regime_exits_2(capsys):
    code, _, err = _run(capsys, "--quick", "--no-real", "--regime", "moon")
    assert code == 2 and "unknown regime moon" in err
