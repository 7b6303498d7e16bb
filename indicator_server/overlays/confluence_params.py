"""Every threshold and weight of the confluence score, in one frozen dataclass the API echoes in ``meta``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indicator_server.errors import InvalidArgument
from indicator_server.overlays.funding import FUNDING_ZSCORE_WINDOW
from indicator_server.overlays.oi_delta import OI_ZSCORE_WINDOW

# TradingView's RSI depends on the whole history through its seed; after 20 * length bars the seed's influence
# is below e^-20 (~2e-9) of its initial gap, so RSI agrees with a chart holding more history (tests: < 1e-6).
RSI_WARMUP_FACTOR = 20


@dataclass(frozen=True)
class ConfluenceParams:
    """Parameters of ``compute_confluence``. Windows count bars; weights are score points (they sum to
    100)."""

    rsi_length: int = 14
    rsi_overbought: float = 70.0
    rsi_oversold: float = 30.0
    funding_zscore_window: int = FUNDING_ZSCORE_WINDOW
    oi_zscore_window: int = OI_ZSCORE_WINDOW
    # A z-score of this size saturates its signal (funding, OI level, OI delta).
    zscore_cap: float = 3.0
    # Long/short account ratio read as balanced (1.0: as many accounts long as short; a venue whose retail
    # accounts lean long structurally may set its usual level) ...
    long_short_neutral: float = 1.0
    # ... and the ratio to it (or its inverse) at which the skew saturates.
    long_short_cap: float = 2.0
    # A liquidation cluster counts when within this % of the close, linearly more the closer it is ...
    cluster_near_pct: float = 3.0
    # ... and its size counts as its percentile among the clusters of the last this-many bars: scale-free, so the
    # liquidation model's notional calibration (and a venue's share of the market) does not change the score.
    cluster_rank_window: int = 168
    weight_funding: float = 35.0
    weight_oi: float = 20.0
    weight_rsi: float = 15.0
    weight_long_short: float = 15.0
    weight_clusters: float = 15.0
    # |score| at or above this gives a risk regime label.
    regime_threshold: float = 35.0
    # Components smaller than this many points get no reason string.
    reason_min_points: float = 1.0

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        for name in ("rsi_length",):
            if getattr(self, name) < 1:
                problems[name] = "must be >= 1"
        for name in ("funding_zscore_window", "oi_zscore_window", "cluster_rank_window"):
            if getattr(self, name) < 2:
                problems[name] = "must be >= 2"
        if not 0 < self.rsi_oversold < self.rsi_overbought < 100:
            problems["rsi_oversold"] = "need 0 < rsi_oversold < rsi_overbought < 100"
        for name in ("zscore_cap", "long_short_neutral", "cluster_near_pct"):
            if not getattr(self, name) > 0:
                problems[name] = "must be > 0"
        if not self.long_short_cap > 1:
            problems["long_short_cap"] = "must be > 1"
        for field in dataclasses.fields(self):
            if field.name.startswith("weight_") and not getattr(self, field.name) >= 0:
                problems[field.name] = "must be >= 0"
        if not 0 < self.regime_threshold <= 100:
            problems["regime_threshold"] = "must be in (0, 100]"
        if not self.reason_min_points >= 0:
            problems["reason_min_points"] = "must be >= 0"
        if problems:
            raise InvalidArgument("invalid confluence parameters", details=problems)

    @classmethod
    def from_dict(cls, overrides: Mapping[str, Any] | None = None) -> ConfluenceParams:
        """Defaults updated with ``overrides`` (values may be strings, as from a query string).

        Raises ``InvalidArgument`` for unknown names, values of the wrong type and out-of-range values.
        """
        overrides = dict(overrides or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise InvalidArgument(
                "unknown confluence parameters", details={"unknown": unknown, "allowed": sorted(fields)}
            )
        values: dict[str, Any] = {}
        bad: dict[str, str] = {}
        for name, raw in overrides.items():
            kind = int if fields[name].type in ("int", int) else float
            try:
                if isinstance(raw, bool):
                    raise TypeError
                value = float(raw)
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError
                if kind is int:
                    if value != int(value):
                        raise ValueError
                    value = int(value)
            except (TypeError, ValueError):
                bad[name] = f"expected {'an integer' if kind is int else 'a number'}, got {raw!r}"
                continue
            values[name] = value
        if bad:
            raise InvalidArgument("invalid confluence parameters", details=bad)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def warmup_bars(self) -> int:
        """Bars to load before the first shown bar so every column is defined and RSI matches TradingView."""
        return max(
            self.funding_zscore_window - 1,
            self.oi_zscore_window,  # the delta z-score needs window deltas, i.e. window + 1 OI values
            self.rsi_length * RSI_WARMUP_FACTOR,
            self.cluster_rank_window - 1,
        )
