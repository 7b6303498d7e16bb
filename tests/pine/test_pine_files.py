"""Static checks of every indicator in pine/: pyne parses and lints it, its header documents every input with its
default, its alertcondition() messages are exactly the webhook's JSON template (README "TradingView alerts"), and
its request.security() calls ask for TradingView's <EXCHANGE>:<TICKER>_OI / _FR symbols."""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
import pytest

from tests.pine.harness import PINE, REPO, require_pyne, run_pine

PYNE = REPO / ".venv" / "bin" / "pyne"
FILES = sorted(p.name for p in PINE.glob("*.pine"))
EXPECTED = ["confluence.pine", "liquidation_levels.pine", "oi_delta.pine"]
SCHEMA = json.loads((REPO / "schemas" / "tradingview-alert.schema.json").read_text())
INPUT = re.compile(r"input\.(\w+)\(\s*([^,]+?),\s*\"([^\"]+)\"")


def readme_template() -> dict:
    """The first alert message of README "TradingView alerts" (the one to paste)."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## TradingView alerts") :]
    block = section[section.index("```json") + len("```json") : section.index("```", section.index("```json") + 7)]
    return json.loads(block)


def header(name: str) -> str:
    """The comment block that opens the file, up to the //@version=6 line (which must follow it)."""
    lines = (PINE / name).read_text().splitlines()
    out = []
    for line in lines:
        if line == "//@version=6" or not line.startswith("//"):
            break
        out.append(line)
    assert lines[len(out)] == "//@version=6", f"{name}: the header must be followed by //@version=6"
    return "\n".join(out)


def default_documented(default: str, flat_header: str) -> bool:
    """A numeric default appears as a number of the header (8.0 as 8), any other default as its text."""
    text = default.strip().strip('"')
    try:
        value = float(text)
    except ValueError:
        return text.lower() in flat_header
    numbers = {float(t) for t in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?", flat_header)}
    return value in numbers


def test_the_three_indicators_exist():
    assert FILES == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_pyne_check_and_lint(name):
    require_pyne()
    check = subprocess.run([str(PYNE), "check", str(PINE / name)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    lint = subprocess.run([str(PYNE), "lint", "--json", str(PINE / name)], capture_output=True, text=True, timeout=120)
    findings = json.loads(lint.stdout)
    # Long lines (C002) are the only warnings allowed: Pine has no line-length limit and alert JSON is long.
    assert [f for f in findings if f["severity"] == "error"] == []
    assert {f["code"] for f in findings} <= {"C002"}, findings


@pytest.mark.parametrize("name", EXPECTED)
def test_header_names_every_input_and_its_version(name):
    source = (PINE / name).read_text()
    head = header(name)
    assert head.startswith("// ")
    inputs = INPUT.findall(source)
    assert len(inputs) >= 5
    missing, defaults = [], []
    flat = " ".join(head.lower().split())
    for kind, default, title in inputs:
        if kind == "color":
            continue
        if title.split(" (")[0].lower() not in flat:
            missing.append(title)
        if not default_documented(default, flat):
            defaults.append(f"{title}={default}")
    assert missing == [], f"inputs not named in the header of {name}: {missing}"
    assert defaults == [], f"defaults not given in the header of {name}: {defaults}"


def alertconditions(name: str) -> list[tuple[str, dict]]:
    source = (PINE / name).read_text()
    found = re.findall(r"alertcondition\([^,]+,\s*\"([^\"]+)\",\s*'([^']+)'\)", source)
    return [(title, json.loads(message)) for title, message in found]


@pytest.mark.parametrize("name", ["confluence.pine", "oi_delta.pine"])
def test_alertcondition_messages_are_the_webhook_template(name):
    template = readme_template()
    conditions = alertconditions(name)
    assert len(conditions) >= 2
    for title, message in conditions:
        assert list(message) == list(template), title
        for key in ("secret", "ticker", "exchange", "interval", "price", "time", "timenow"):
            assert message[key] == template[key], (title, key)
        assert message["action"] in ("buy", "sell", "close")
        assert "{{ticker}}" in message["message"]
        jsonschema.validate(message, SCHEMA)


def test_confluence_alertconditions_cover_each_regime():
    actions = {title: message["action"] for title, message in alertconditions("confluence.pine")}
    assert actions == {"Long cascade risk": "sell", "Short squeeze risk": "buy", "Back to neutral": "close"}
    # {{plot_0}} must be the score: the first plot of the script.
    source = (PINE / "confluence.pine").read_text()
    first_plot = re.search(r"^plot\((\w+), \"([^\"]+)\"", source, re.M)
    assert first_plot.groups() == ("score", "Score")


@pytest.mark.parametrize(
    ("name", "symbols"),
    [
        ("oi_delta.pine", {"OKX:SOLUSDT.P_OI"}),
        ("confluence.pine", {"OKX:SOLUSDT.P_OI", "OKX:SOLUSDT.P_FR"}),
        ("liquidation_levels.pine", {"OKX:SOLUSDT.P_OI"}),
    ],
)
def test_default_inputs_request_the_oi_and_funding_symbols(name, symbols, sol_bars):
    """With default inputs the scripts ask request.security for <EXCHANGE>:<TICKER>_OI (and _FR); pyne has no
    second symbol to serve, so it records each request as foreign and returns na (the tests feed sources)."""
    require_pyne()
    result = run_pine(name, sol_bars.iloc[:60].reset_index(drop=True))
    policies = result["meta"]["request_security"]["policies"]
    requested = {v["symbol"] for k, v in policies.items() if k.startswith("foreign")}
    if name == "confluence.pine":
        # pyne keeps one record per policy: the last symbol asked; the script builds both from the same prefix
        assert requested & symbols
        assert re.search(r'base \+ "_OI"', (PINE / name).read_text()) and re.search(
            r'base \+ "_FR"', (PINE / name).read_text()
        )
    else:
        assert requested == symbols


def pine_defaults(name: str) -> dict[str, str]:
    return {title: default.strip().strip('"') for _, default, title in INPUT.findall((PINE / name).read_text())}


def server_defaults() -> dict[str, dict[str, object]]:
    """What each Pine input must default to: the server's own defaults, read from the server's code."""
    from indicator_server.overlays.confluence_params import ConfluenceParams
    from indicator_server.overlays.funding import DEFAULT_INTERVAL_HOURS
    from indicator_server.overlays.liquidations.flow import bracket_for
    from indicator_server.overlays.liquidations.model import DEFAULT_BINS
    from indicator_server.overlays.liquidations.params import LiquidationParams
    from indicator_server.overlays.oi_delta import OI_ZSCORE_WINDOW

    c, lp = ConfluenceParams(), LiquidationParams()
    bracket = bracket_for(lp.brackets, lp.position_size_usd)
    liquidation = {
        "Flow": lp.flow_source.capitalize(), "OI weight (Blend)": lp.oi_weight,
        "Volume open fraction": lp.volume_open_fraction, "Volume half-life (h)": lp.volume_half_life_hours,
        "Notional scale": lp.notional_scale, "Position size USD": lp.position_size_usd, "MMR": bracket.mmr,
        "Maintenance amount": bracket.cum, "Map range %": lp.map_range_pct, "Map bins": DEFAULT_BINS,
        "Cluster bin %": lp.cluster_bin_pct, "Cluster density": lp.cluster_density, "Levels drawn": lp.max_levels,
    }
    for i, (lev, weight) in enumerate(zip(lp.leverage_tiers, lp.leverage_weights, strict=True), start=1):
        liquidation |= {f"Tier {i} leverage": lev, f"weight {i}": weight}
    return {
        "oi_delta.pine": {"Z-score window": OI_ZSCORE_WINDOW},
        "confluence.pine": {
            "RSI length": c.rsi_length, "RSI overbought": c.rsi_overbought, "RSI oversold": c.rsi_oversold,
            "Funding z-score window": c.funding_zscore_window, "OI z-score window": c.oi_zscore_window,
            "Z-score cap": c.zscore_cap, "Long/short neutral": c.long_short_neutral,
            "Long/short cap": c.long_short_cap, "Weight funding": c.weight_funding, "Weight OI": c.weight_oi,
            "Weight RSI": c.weight_rsi, "Weight long/short": c.weight_long_short,
            "Regime threshold": c.regime_threshold, "Funding interval (h)": DEFAULT_INTERVAL_HOURS,
        },
        "liquidation_levels.pine": liquidation,
    }


@pytest.mark.parametrize("name", EXPECTED)
def test_defaults_are_the_servers(name):
    defaults = pine_defaults(name)
    if name == "liquidation_levels.pine":
        # the five tier weights share the title "weight": read them in order
        source = (PINE / name).read_text()
        weights = re.findall(r'input\.float\(([\d.]+), "weight"', source)
        for i, w in enumerate(weights, start=1):
            defaults[f"weight {i}"] = w
    for title, expected in server_defaults()[name].items():
        assert title in defaults, f"{name} has no input {title!r}"
        value = defaults[title]
        if isinstance(expected, str):
            assert value == expected, title
        else:
            assert float(value) == pytest.approx(float(expected), rel=1e-12), title
