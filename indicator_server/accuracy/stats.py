"""Small statistics of the accuracy scores: per-day sums, Spearman rank correlation, day windows, ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY_MS = 86_400_000
SIDES = ("long", "short")


def to_daily(times_ms: np.ndarray, long_usd: np.ndarray, short_usd: np.ndarray) -> pd.DataFrame:
    """Sum per-bar notional into UTC days (the bar's open time decides the day): long, short, total."""
    day = pd.to_datetime(np.asarray(times_ms, dtype="int64") // DAY_MS * DAY_MS, unit="ms")
    frame = pd.DataFrame({"long": np.asarray(long_usd, dtype="float64"),
                          "short": np.asarray(short_usd, dtype="float64")}, index=day)
    out = frame.groupby(level=0).sum()
    out["total"] = out["long"] + out["short"]
    return out


def spearman(a, b) -> float:
    """Spearman rank correlation (Spearman 1904: Pearson correlation of the ranks, average ranks for ties) on the
    common non-NaN index; NaN with fewer than 3 pairs or a constant side."""
    both = pd.concat([pd.Series(a), pd.Series(b)], axis=1).dropna()
    if len(both) < 3:
        return float("nan")
    ranks = both.rank(method="average")
    x, y = ranks.iloc[:, 0].to_numpy(), ranks.iloc[:, 1].to_numpy()
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def window(frame: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """Rows of a day-indexed frame from ``first`` to ``last`` inclusive."""
    return frame[(frame.index >= pd.Timestamp(first)) & (frame.index <= pd.Timestamp(last))]


def scores(pred: pd.DataFrame, real: pd.DataFrame) -> dict[str, float]:
    """Spearman per column (long, short, total) of two day-indexed frames."""
    return {side: spearman(pred[side], real[side]) for side in ("long", "short", "total")}


def ratio_stats(model: pd.Series, real: pd.Series, within: float = 1.5) -> dict[str, float]:
    """Modelled / real on the days both have (real > 0): ratio of the totals, median of the daily ratios, and the
    share of days whose ratio lies in [1/within, within]."""
    both = pd.concat([model, real], axis=1, keys=["m", "r"]).dropna()
    both = both[both["r"] > 0]
    if both.empty:
        return {"totals_ratio": float("nan"), "median_daily_ratio": float("nan"), "days_within": float("nan"),
                "days": 0}
    daily = both["m"] / both["r"]
    return {"totals_ratio": float(both["m"].sum() / both["r"].sum()), "median_daily_ratio": float(daily.median()),
            "days_within": float(((daily >= 1 / within) & (daily <= within)).mean()), "days": int(len(both))}


def daily_baselines(bars: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per-day naive predictors of liquidations (long, short, total), each day's bars taken together: the day's
    quote volume, |return| x volume, and excursion x OI (down move from the open x the day's first OI for longs,
    up move x OI for shorts)."""
    day = pd.to_datetime(bars["time"].to_numpy() // DAY_MS * DAY_MS, unit="ms")
    g = bars.assign(day=day).groupby("day")
    d = pd.DataFrame({
        "open": g["open"].first(), "high": g["high"].max(), "low": g["low"].min(), "close": g["close"].last(),
        "volume": g["quote_volume"].sum(), "oi": g["open_interest_usd"].first(),
    })
    ret_vol = (d["close"] / d["open"] - 1).abs() * d["volume"]
    down = (d["open"] - d["low"]) / d["open"] * d["oi"]
    up = (d["high"] - d["open"]) / d["open"] * d["oi"]
    return {
        "daily volume": pd.DataFrame({"long": d["volume"], "short": d["volume"], "total": d["volume"]}),
        "|return| x volume": pd.DataFrame({"long": ret_vol, "short": ret_vol, "total": ret_vol}),
        "excursion x OI": pd.DataFrame({"long": down, "short": up, "total": down + up}),
    }
