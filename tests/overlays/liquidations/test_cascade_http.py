"""``include=cascade`` through the HTTP API (app factory, recorded Binance klines): the part is answered only when
asked, rounded like every JSON overlay, and follows the leverage filter."""

from __future__ import annotations

from indicator_server.overlays.liquidations.cascade import DEFAULT_MOVES_PCT
from tests.overlays.liquidations.test_liquidations_bins_http import URL, client  # noqa: F401 (fixture)

CASCADE = URL.replace("include=map,clusters", "include=cascade")


def test_cascade_only_on_request_and_rounded(client):  # noqa: F811
    assert "cascade" not in client.get(URL).get_json()
    r = client.get(CASCADE)
    assert r.status_code == 200, r.get_json()
    part = r.get_json()["cascade"]
    assert part["moves_pct"] == list(DEFAULT_MOVES_PCT)
    for direction in ("down", "up"):
        rows = part[direction]
        assert [row["move_pct"] for row in rows] == list(DEFAULT_MOVES_PCT)
        assert all(a["forced_usd"] <= b["forced_usd"] for a, b in zip(rows, rows[1:], strict=False))
        for row in rows:
            assert row["forced_usd"] == round(row["forced_usd"], 2)
            assert row["hourly_volume_usd"] == round(row["hourly_volume_usd"], 2)
            if not row["beyond_map"]:
                assert row["exhaustion_pct"] == round(row["exhaustion_pct"], 6)
                assert row["exhaustion_pct"] >= row["move_pct"] - 1e-6
        summary = part["summary"][direction]
        assert summary is None or summary["forced_usd"] >= summary["hourly_volume_usd"]
    assert set(part["rule"]) >= {"thin_fraction", "impact_y", "daily_volatility_pct", "daily_volume_usd"}


def test_cascade_follows_the_leverage_filter(client):  # noqa: F811
    every = client.get(CASCADE).get_json()["cascade"]
    high = client.get(CASCADE + "&leverage=high").get_json()["cascade"]
    # fewer levels, never more notional forced by the same move
    for direction in ("down", "up"):
        for a, b in zip(every[direction], high[direction], strict=True):
            assert b["forced_usd"] <= a["forced_usd"] + 0.01
    assert sum(r["forced_usd"] for r in high["down"]) < sum(r["forced_usd"] for r in every["down"])
