"""The JSON shape of a ``LiquidationResult`` (the HTTP answer's body minus ``meta``). Pure: no Flask.

Arrays stay numpy (orjson serialises them natively); USD amounts are rounded to cents, and the whole body goes
through ``overlays.precision.round_payload`` once, as every JSON overlay does (prices to 12 significant digits,
percentages to 6 decimals).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..precision import round_array, round_payload, rule_for
from .model import LiquidationResult

MAP_COLUMNS = ("price_low", "price_high", "price", "long_usd", "short_usd", "long_cum_usd", "short_cum_usd")


def _usd(values: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values, dtype="float64"), 2)


def active_levels(result: LiquidationResult, max_levels: int) -> tuple[list[dict[str, Any]], int]:
    """The open levels, largest first (at most ``max_levels``), and how many are open in all."""
    frame = result.levels
    if frame is None:
        return [], 0
    open_ = frame[frame["open_usd"] > 0.005]
    top = open_.nlargest(max_levels, "open_usd")
    out = [
        {"price": float(p), "side": str(s), "leverage": float(lev), "notional_usd": round(float(u), 2),
         "initial_usd": round(float(i), 2), "opened_at": int(t)}
        for p, s, lev, u, i, t in zip(top["price"], top["side"], top["leverage"], top["open_usd"],
                                      top["notional_usd"], top["opened_at"], strict=True)
    ]
    return out, len(open_)


def map_payload(lmap: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: (_usd(lmap[name]) if name.endswith("_usd") else lmap[name])
                           for name in MAP_COLUMNS}
    out["by_leverage"] = {lev: {side: _usd(v) for side, v in parts.items()}
                          for lev, parts in lmap["by_leverage"].items()}
    out["outside_usd"] = {"long": round(lmap["long_outside_usd"], 2), "short": round(lmap["short_outside_usd"], 2)}
    return out


def heatmap_payload(heat: dict[str, Any], fmt: str) -> dict[str, Any]:
    """Coinglass-like: axes plus either the dense grid ``values[t][p]`` or sparse ``data`` rows
    ``[t_index, p_index, usd]`` for the non-empty cells."""
    values = heat["values"]
    out: dict[str, Any] = {
        "format": fmt,
        "time": heat["time"],
        "price": heat["price"],
        "price_low": float(heat["price_low"][0]),
        "price_high": float(heat["price_high"][-1]),
        "bin_size": float(heat["price_high"][0] - heat["price_low"][0]),
        "stride_bars": heat["stride"],
        "max_usd": round(float(values.max()), 2) if values.size else 0.0,
    }
    if fmt == "dense":
        out["values"] = _usd(values)
    else:
        t, p = np.nonzero(values >= 0.005)
        out["data"] = np.column_stack([t, p, _usd(values[t, p])]) if len(t) else np.zeros((0, 3))
    return out


def swept_payload(result: LiquidationResult) -> list[dict[str, Any]]:
    """Per bar {time, long_usd, short_usd}, rounded as whole columns by the precision rules (a year of 1h bars
    rounded number by number in ``round_payload`` took ~150 ms of a ~200 ms answer)."""
    frame = result.swept
    long_usd, short_usd = (round_array(frame[c].to_numpy(dtype="float64"), rule_for(c)).tolist()
                           for c in ("long_usd", "short_usd"))
    return [{"time": t, "long_usd": lo, "short_usd": sh}
            for t, lo, sh in zip(frame["time"].astype("int64").tolist(), long_usd, short_usd, strict=True)]


def result_payload(result: LiquidationResult, include: Iterable[str], *, max_levels: int = 500,
                   heatmap_format: str = "sparse") -> tuple[dict[str, Any], list[str]]:
    """Body parts for ``include`` and the warnings shaping added (e.g. a truncated level list)."""
    include = set(include)
    warnings: list[str] = []
    body: dict[str, Any] = {"price": result.price, "max_pain": result.max_pain}
    if "levels" in include:
        body["levels"], total = active_levels(result, max_levels)
        if total > len(body["levels"]):
            warnings.append(f"levels: the {len(body['levels'])} largest of {total} open levels are listed")
    if "map" in include and result.map is not None:
        body["map"] = map_payload(result.map)
    if "clusters" in include:
        body["clusters"] = [{k: (round(v, 2) if k == "notional_usd" else v) for k, v in c.items()}
                            for c in (result.clusters or [])]
    if "heatmap" in include and result.heatmap is not None:
        body["heatmap"] = heatmap_payload(result.heatmap, heatmap_format)
    if "cascade" in include and result.cascade is not None:
        body["cascade"] = result.cascade  # plain floats and None: round_payload rounds it by field name
    body = round_payload(body)
    if "swept" in include and result.swept is not None:
        body["swept"] = swept_payload(result)  # already rounded (swept_payload)
    return body, warnings
