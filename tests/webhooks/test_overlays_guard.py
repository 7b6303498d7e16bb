"""A missing or failing overlay marks its context fields missing; it never loses the signal. Tokens never reach
the access log."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicator_server.webhooks import overlay_adapters
from indicator_server.webhooks.redact import redact


def _bars(n=80):
    t = np.arange(n, dtype="int64") * 3_600_000
    close = 100 + np.sin(np.arange(n) / 5.0) * 5
    return pd.DataFrame({"time": t, "open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": 1.0, "quote_volume": 1.0, "taker_buy_volume": 0.5, "taker_buy_quote_volume": 0.5,
                         "trades": 1.0, "open_interest": 1000 + np.arange(n), "open_interest_usd": 1e5,
                         "funding_rate": 0.0001, "funding_interval_hours": 8.0, "long_short_ratio": 1.2,
                         "long_account": 0.55})


def test_all_available_overlays_fill_their_fields():
    values, missing = overlay_adapters.overlay_fields(_bars())
    assert values["rsi"] is not None and values["oi_delta"] == 1.0
    assert "score" in values and "regime" in values
    assert set(missing) <= {f"{side}_cluster_{f}" for side in ("long", "short") for f in ("price", "usd",
                                                                                          "distance_pct")}


def test_a_failing_overlay_is_marked_not_raised(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    real = overlay_adapters._optional
    monkeypatch.setattr(overlay_adapters, "_optional",
                        lambda module, name: broken if name == "compute_rsi" else real(module, name))
    values, missing = overlay_adapters.overlay_fields(_bars())
    assert missing["rsi"] == "error: RuntimeError" and "rsi" not in values
    assert values["oi_delta"] == 1.0


def test_a_missing_overlay_is_marked_not_available(monkeypatch):
    real = overlay_adapters._optional
    monkeypatch.setattr(overlay_adapters, "_optional",
                        lambda module, name: None if name == "compute_confluence" else real(module, name))
    _, missing = overlay_adapters.overlay_fields(_bars())
    assert missing["score"] == "overlay not available" and missing["regime"] == "overlay not available"


def test_tokens_are_redacted_from_access_log_lines():
    assert redact("POST /webhook/tradingview/s3cr3t HTTP/1.1") == "POST /webhook/tradingview/*** HTTP/1.1"
    assert redact("POST /webhook/tradingview HTTP/1.1") == "POST /webhook/tradingview HTTP/1.1"
