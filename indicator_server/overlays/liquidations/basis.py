"""The liquidation model as a linear function of its tier weights: one basis column per leverage tier.

A level's notional is new_j x share_j x weight_k (levels.py), and where it sits and when it is swept depend only on
the entry price and the tier, never on the flow, the split, the holding time or the weight. So the levels of a tier
grid are built and swept ONCE (``build_sweeps``); each candidate (flow source, holding time, split) then only
re-weights them (``candidate_basis``):

- swept basis, per side: X[t, k] = sum over tier-k levels swept in bar t of new_j x share_j x exp(L_(t-1) - L_j)
  x f_k, f_k = liquidation price / entry price, so X is in the units of a liquidation print (quantity x
  liquidation price, as Binance's forceOrder stream and Coinglass report it), while the fitted weights stay in
  entry notional (the model's own unit). The model's swept series with weights w (not normalised) is X @ w.
- open basis: O[t, k] = notional of tier-k levels still open at the close of bar t (both sides), what open
  interest counts; sum_k w_k O[t, k] is the model's implied open notional.

Same formulas as levels.swept_per_bar / levels.open_notional (DOMAIN.md section 3 steps 3-5), split by tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from . import flow
from .levels import LONG, LevelArrays, build_levels, log_at, sweep_levels
from .params import LiquidationParams

OPEN_CHUNK = 128  # bars per block of the open-notional sum (bounds exp() of the survival differences)


@dataclass(frozen=True)
class Candidate:
    """One choice of the structural parameters; ``half_life`` is the volume flow's holding half-life or the OI
    flow's extra decay (None: OI closures only), ``alpha`` its leverage exponent (half_life_leverage_exponent)."""

    flow: str
    half_life: float | None
    split: str
    alpha: float = 0.0

    def fields(self) -> dict[str, object]:
        if self.flow == "volume":
            return {"flow_source": "volume", "volume_half_life_hours": float(self.half_life or 24.0),
                    "decay_half_life_hours": None, "split": self.split, "half_life_leverage_exponent": self.alpha}
        return {"flow_source": self.flow, "decay_half_life_hours": self.half_life, "split": self.split,
                "half_life_leverage_exponent": self.alpha if self.half_life is not None else 0.0}

    def label(self) -> str:
        hl = "none" if self.half_life is None else f"{self.half_life:g}h"
        return f"{self.flow}/{hl}/{self.split}" + (f"/a{self.alpha:g}" if self.alpha else "")


@dataclass
class Sweeps:
    """Unit-notional levels of every bar and tier of ``tiers``, swept once."""

    levels: LevelArrays
    factor: np.ndarray  # liquidation price / entry price of each level
    entry: np.ndarray
    tiers: tuple[float, ...]
    n: int


@dataclass
class Basis:
    candidate: Candidate
    swept_long: np.ndarray  # n x K
    swept_short: np.ndarray  # n x K
    used_flow: str
    _open_args: tuple = ()

    @cached_property
    def open(self) -> np.ndarray:
        """n x K open notional (both sides), computed on first use (it costs more than the swept basis)."""
        return open_per_bar(*self._open_args)


def build_sweeps(bars: pd.DataFrame, prior: LiquidationParams, tiers: tuple[float, ...]) -> Sweeps:
    """Levels of unit notional and even split for every bar and tier, with their sweeping bars."""
    params = prior.replace(leverage_tiers=tiers, leverage_weights=(1.0,) * len(tiers))
    entry = flow.entry_prices(bars, params.entry_price)
    n = len(bars)
    long_f, short_f = flow.liquidation_factors(params)
    levels = build_levels(entry, np.full(n, 0.5), np.ones(n), long_f, short_f, np.ones(len(tiers)))
    sweep_levels(levels, flow.column(bars, "low"), flow.column(bars, "high"))
    factor = np.where(levels.side == LONG, long_f[levels.tier], short_f[levels.tier])
    return Sweeps(levels, factor, entry, tuple(tiers), n)


def candidate_params(prior: LiquidationParams, candidate: Candidate, fixed: set[str]) -> LiquidationParams:
    """The prior with the candidate's fields, except those the user fixed."""
    return prior.replace(**{k: v for k, v in candidate.fields().items() if k not in fixed})


def candidate_basis(bars: pd.DataFrame, sweeps: Sweeps, params: LiquidationParams, candidate: Candidate,
                    cache: dict | None = None) -> Basis:
    """Swept and open bases of one candidate (``params`` from ``candidate_params``), notional_scale 1.
    ``cache`` (a dict kept across candidates of the same bars) memoises the per-bar flow arrays."""
    cache = {} if cache is None else cache
    unit = params.replace(notional_scale=1.0)
    used, _ = flow.effective_flow(bars, unit)
    key = (used, unit.oi_weight, unit.volume_open_fraction)
    if ("new", key) not in cache:
        cache["new", key] = flow.new_notional(bars, unit, sweeps.entry, used)
    if ("share", unit.split) not in cache:
        cache["share", unit.split] = flow.long_shares(bars, unit)
    surv_key = ("surv", used, unit.oi_closure, unit.decay_half_life_hours, unit.volume_half_life_hours,
                unit.half_life_leverage_exponent)
    if surv_key not in cache:
        cache[surv_key] = flow.log_survival(bars, unit, used, sweeps.tiers)
    new, share, log_surv = cache["new", key], cache["share", unit.split], cache[surv_key]
    lv, n, k = sweeps.levels, sweeps.n, len(sweeps.tiers)
    amount = new[lv.bar] * np.where(lv.side == LONG, share[lv.bar], 1.0 - share[lv.bar])
    swept = []
    for side in (LONG, 1 - LONG):
        sel = (lv.side == side) & (lv.swept < n) & (amount > 0)
        t, tier = lv.swept[sel], lv.tier[sel].astype("int64")
        held = log_at(log_surv, t - 1, tier) - log_at(log_surv, lv.bar[sel], tier)
        usd = amount[sel] * np.exp(held) * sweeps.factor[sel]
        idx = t * k + lv.tier[sel].astype("int64")
        swept.append(np.bincount(idx, weights=usd, minlength=n * k)[: n * k].reshape(n, k))
    open_args = (lv.bar, np.minimum(lv.swept, n), lv.tier.astype("int64"), amount, log_surv, n, k)
    return Basis(candidate, swept[0], swept[1], used, open_args)


def open_per_bar(bar: np.ndarray, gone: np.ndarray, tier: np.ndarray, amount: np.ndarray, log_surv: np.ndarray,
                 n: int, k: int) -> np.ndarray:
    """O[t, k] = sum of amount x exp(L_t - L_j) over tier-k levels with j <= t < gone (n x k); L may be n x k
    (one survival per tier, flow.log_survival), then tier k's own column.

    Blocks of ``OPEN_CHUNK`` bars share the reference R = L at the block start: exp(L_t - L_j) =
    exp(L_t - R) x exp(R - L_j), both bounded inside a block (L is non-increasing), so long histories neither
    overflow nor underflow; inside a block the alive set is a difference of running sums (events at birth/death).
    """
    out = np.zeros((n, k))
    for start in range(0, n, OPEN_CHUNK):
        stop = min(start + OPEN_CHUNK, n)
        sel = (bar < stop) & (gone > start) & (amount > 0)
        if not sel.any():
            continue
        ref = log_surv[start]  # a number, or one per tier
        value = amount[sel] * np.exp((ref if log_surv.ndim == 1 else ref[tier[sel]])
                                     - log_at(log_surv, bar[sel], tier[sel]))
        first = np.maximum(bar[sel], start) - start
        last = np.minimum(gone[sel], stop) - start
        m = stop - start
        events = np.bincount(first * k + tier[sel], weights=value, minlength=(m + 1) * k)
        events -= np.bincount(last * k + tier[sel], weights=value, minlength=(m + 1) * k)
        alive = np.cumsum(events[: (m + 1) * k].reshape(m + 1, k), axis=0)[:m]
        shift = log_surv[start:stop] - ref
        out[start:stop] = alive * np.exp(shift if shift.ndim == 2 else shift[:, None])
    return out
