"""Every assumption of the liquidation-level model, as one frozen dataclass the API echoes in ``meta.model``.

No exchange publishes other traders' positions, so the levels are a model (DOMAIN.md section 3, the "OI-flow"
model that Coinglass's models and TradingView's "Liquidation Levels"/"Liquidation HeatMap" scripts share). Each
field below is one of its assumptions; ``LiquidationParams.from_dict`` builds one from overrides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidArgument
from ..liquidation_price import BINANCE_BTCUSDT, Bracket

MODEL_NAME = "oi-flow"
MODEL_VERSION = "1.2"  # 1.1: clusters and max pain on a fixed % price grid (cluster_bin_pct), not on `bins`;
# 1.2: half_life_leverage_exponent (a holding time that falls with leverage; 0 = 1.1), fitted per market by calibrate

FLOW_SOURCES = ("oi", "volume", "blend")
ENTRY_PRICES = ("vwap", "hlc3", "close")
SPLITS = ("taker", "candle", "ratio", "even", "blend")
OI_CLOSURES = ("proportional", "none")

# Leverage filter names (Coinglass offers high / medium / low): low <= 10x, 10x < medium < 50x, high >= 50x.
LEVERAGE_GROUPS: dict[str, tuple[float, float]] = {
    "low": (0.0, 10.0),
    "medium": (10.0 + 1e-9, 50.0 - 1e-9),
    "high": (50.0, float("inf")),
}


@dataclass(frozen=True)
class LiquidationParams:
    """Parameters of ``estimate_liquidations``.

    Flow (where new positions come from, DOMAIN.md section 3 step 1):
      ``flow_source`` "oi": new notional in a bar = OI increase (base units) x entry price; "volume": new notional =
      ``volume_open_fraction`` x quote volume, and positions decay with ``volume_half_life_hours`` (there is no OI
      to say when they close); "blend": ``oi_weight`` x the OI flow + (1 - ``oi_weight``) x the volume flow. When
      the bars carry no open interest at all, "oi"/"blend" fall back to "volume" with a warning.
    Entry price (step 1): ``entry_price`` "vwap" = quote_volume / volume where given, else hlc3; "hlc3"; "close".
    Long/short split (step 2): ``split`` "taker" = taker-buy share of volume; "candle" = 0.5 + 0.5 x (close - open) /
      (high - low); "ratio" = long account share (long/short ratio r -> r / (1 + r)); "even" = 0.5; "blend" =
      weighted mean of taker, candle and ratio with ``split_weights``. A missing input falls back to candle.
    Leverage (step 3): ``leverage_tiers`` with ``leverage_weights`` (normalised to sum 1); each tier's liquidation
      price uses the Binance isolated formula (DOMAIN.md section 2) with the maintenance bracket of a position of
      ``position_size_usd`` in ``brackets`` (default: Binance BTCUSDT snapshot).
    Closing (step 5): ``oi_closure`` "proportional": when OI falls by x%, every open level shrinks by x%; "none".
      ``decay_half_life_hours``: optional extra exponential decay of every level (None = off).
      ``half_life_leverage_exponent`` alpha: the decay's half-life (``volume_half_life_hours`` of the volume flow,
      ``decay_half_life_hours`` of the OI flows) is that of a 10x position; tier L holds h x (L / 10)^-alpha, so
      low leverage is held longer (alpha > 0). 0 (default): one half-life for every tier. OI closures are shared.
    ``notional_scale`` multiplies all notional (calibration against recorded liquidations).
    Product: ``min_bars`` below which the map is flagged as not meaningful; ``map_range_pct`` the map's price range
      around the last close; ``heatmap_pad_pct`` padding of the heatmap's price axis beyond the window's low/high;
      ``max_heatmap_rows`` the heatmap's time resolution; ``max_levels`` active levels listed (largest first).
    Clusters and max pain (product.py) are found on their own price grid, fixed in price terms and independent of
      the drawing resolution ``bins``: ``cluster_bin_pct`` the width of one grid bin in % of price (a log grid,
      bin k = [g^k, g^(k+1)) with g = 1 + cluster_bin_pct / 100); ``cluster_density`` a grid bin is dense when it
      holds at least this multiple of the mean non-empty bin of its side.
    """

    # Defaults chosen by in-sample accuracy (data before 2025-05-01) against Coinglass's daily BTC liquidations:
    # benchmarks/accuracy_real.py. Held out (2025-05-01..2025-09-08): Spearman 0.934 longs, 0.889 shorts.
    flow_source: str = "volume"
    oi_weight: float = 0.5
    volume_open_fraction: float = 0.1
    volume_half_life_hours: float = 24.0
    entry_price: str = "vwap"
    split: str = "taker"
    split_weights: tuple[float, float, float] = (0.5, 0.25, 0.25)
    leverage_tiers: tuple[float, ...] = (5.0, 10.0, 25.0, 50.0, 100.0)
    leverage_weights: tuple[float, ...] = (0.05, 0.15, 0.25, 0.3, 0.25)
    position_size_usd: float = 10_000.0
    brackets: tuple[Bracket, ...] = BINANCE_BTCUSDT
    oi_closure: str = "proportional"
    decay_half_life_hours: float | None = None
    half_life_leverage_exponent: float = 0.0
    # Ratio of real (all-exchange) to modelled liquidation totals over 2025-01-08..2025-04-30 on Binance volume.
    notional_scale: float = 0.0893
    min_bars: int = 48
    map_range_pct: float = 25.0
    heatmap_pad_pct: float = 10.0
    max_heatmap_rows: int = 2000
    # Cluster grid chosen on the sim's ground truth by the best median lift (true notional inside the clusters minus
    # the price range they cover) on the cases ending before 2025-05-01: ``python -m benchmarks.accuracy_sim --tune``
    # (in-sample lift 12.2 points; held out, cases ending 2025-09-01: 7.5).
    cluster_bin_pct: float = 0.5
    cluster_density: float = 1.5
    max_levels: int = 500

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        for name, allowed in (("flow_source", FLOW_SOURCES), ("entry_price", ENTRY_PRICES), ("split", SPLITS),
                              ("oi_closure", OI_CLOSURES)):
            if getattr(self, name) not in allowed:
                problems[name] = f"one of {', '.join(allowed)}"
        if not 0 <= self.oi_weight <= 1:
            problems["oi_weight"] = "must be in [0, 1]"
        for name in ("volume_open_fraction", "volume_half_life_hours", "position_size_usd", "notional_scale",
                     "map_range_pct", "cluster_density"):
            if not getattr(self, name) > 0:
                problems[name] = "must be > 0"
        if not 0 <= self.heatmap_pad_pct < 100:
            problems["heatmap_pad_pct"] = "must be in [0, 100)"
        if not 0.01 <= self.cluster_bin_pct <= 10:
            problems["cluster_bin_pct"] = "must be in [0.01, 10]"
        if self.map_range_pct >= 100:
            problems["map_range_pct"] = "must be < 100"
        if not 0 <= self.half_life_leverage_exponent <= 2:
            problems["half_life_leverage_exponent"] = "must be in [0, 2]"
        if self.decay_half_life_hours is not None and not self.decay_half_life_hours > 0:
            problems["decay_half_life_hours"] = "must be > 0 or null"
        if len(self.split_weights) != 3 or min(self.split_weights) < 0 or sum(self.split_weights) <= 0:
            problems["split_weights"] = "three weights >= 0 (taker, candle, ratio), not all 0"
        tiers, weights = self.leverage_tiers, self.leverage_weights
        if not tiers or len(tiers) != len(weights) or len(set(tiers)) != len(tiers):
            problems["leverage_tiers"] = "distinct tiers, one weight each"
        elif min(tiers) <= 1 or min(weights) < 0 or sum(weights) <= 0:
            problems["leverage_weights"] = "tiers > 1x, weights >= 0, not all 0"
        for name in ("min_bars", "max_heatmap_rows", "max_levels"):
            if not getattr(self, name) >= 1:
                problems[name] = "must be >= 1"
        if not self.brackets:
            problems["brackets"] = "at least one bracket"
        if problems:
            raise InvalidArgument("invalid liquidation model parameters", details=problems)

    @classmethod
    def from_dict(cls, overrides: Mapping[str, Any] | None = None) -> LiquidationParams:
        """Defaults updated with ``overrides`` (JSON-like values; lists become tuples, brackets may be dicts or
        ``(cap, mmr, max_leverage)`` rows). Raises ``InvalidArgument`` for unknown names or bad values."""
        overrides = dict(overrides or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise InvalidArgument("unknown liquidation model parameters",
                                  details={"unknown": unknown, "allowed": sorted(fields)})
        values: dict[str, Any] = {}
        try:
            for name, raw in overrides.items():
                values[name] = _coerce(name, raw, getattr(cls, name, None))
        except (TypeError, ValueError) as exc:
            raise InvalidArgument("invalid liquidation model parameters", details={"error": str(exc)}) from None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready echo of every parameter (brackets as dicts)."""
        out = dataclasses.asdict(self)
        out["brackets"] = [dataclasses.asdict(b) for b in self.brackets]
        for name in ("split_weights", "leverage_tiers", "leverage_weights"):
            out[name] = list(out[name])
        return out

    def replace(self, **changes: Any) -> LiquidationParams:
        return dataclasses.replace(self, **changes)


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if name == "brackets":
        from ..liquidation_price import brackets_from_table

        rows = [(r["cap"], r["mmr"], r["max_leverage"]) if isinstance(r, Mapping) else tuple(r) for r in raw]
        return brackets_from_table([tuple(float(x) for x in row) for row in rows])
    if name in ("split_weights", "leverage_tiers", "leverage_weights"):
        if isinstance(raw, str):
            raw = raw.split(",")
        return tuple(float(x) for x in raw)
    if name == "decay_half_life_hours":
        return None if raw is None or raw == "" else float(raw)
    if isinstance(default, str):
        return str(raw)
    if isinstance(raw, bool):
        raise TypeError(f"{name}: expected a number")
    if isinstance(default, int):
        value = float(raw)
        if value != int(value):
            raise ValueError(f"{name}: expected an integer")
        return int(value)
    return float(raw)


def leverage_for_names(tokens: list[str], tiers: tuple[float, ...]) -> tuple[float, ...]:
    """Tiers selected by a leverage filter: numbers ("10", "25x") or group names (LEVERAGE_GROUPS).

    Raises ``InvalidArgument`` for unknown names and numbers that are not tiers of the model."""
    chosen: set[float] = set()
    bad: list[str] = []
    for token in (t.strip().lower() for t in tokens if t.strip()):
        if token in LEVERAGE_GROUPS:
            lo, hi = LEVERAGE_GROUPS[token]
            chosen.update(t for t in tiers if lo <= t <= hi)
            continue
        try:
            value = float(token.removesuffix("x"))
        except ValueError:
            bad.append(token)
            continue
        if value in tiers:
            chosen.add(value)
        else:
            bad.append(token)
    if bad:
        raise InvalidArgument(
            f"unknown leverage {', '.join(bad)}",
            details={"field": "leverage", "unknown": bad, "tiers": list(tiers), "names": list(LEVERAGE_GROUPS)},
        )
    return tuple(t for t in tiers if t in chosen)
