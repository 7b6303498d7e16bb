"""The cascade view: what a move of x % down or up would force-close, where that run would likely exhaust, and how
big the forced flow is against the volume usually traded at that price. Pure maths on the cluster grid
(``product.cluster_map``) and the window's bars; no Flask.

Definitions (this product's; the public tools do not publish theirs):

- Forced notional. Inside one grid bin the bin's open notional is taken as spread evenly in log price; in the
  close's bin, long notional is spread between the bin's low edge and the close and short notional between the
  close and the bin's high edge (long levels sit below the price, short ones above). ``forced_usd`` at a price p is
  the notional of the side's levels between the close and p: long levels for a move down, short levels for a move
  up. At a bin edge it equals the grid's cumulative curve (``long_cum_usd`` / ``short_cum_usd``), between edges it
  is linear in log price, so it is continuous and non-decreasing in the size of the move. A liquidation of a long
  is a forced market sell and of a short a forced market buy, so the flow pushes the way of the move (the seeds,
  DOMAIN.md section 1).
- The run (self-consistent). The forced flow F of a run adds an impact by the square-root law
  I(F) = Y x sigma_D x sqrt(F / V_D) (fraction of price; Toth, Lemperiere, Deremble, de Lataillade, Kockelkoren,
  Bouchaud, "Anomalous price impact and the critical nature of liquidity in financial markets", Phys. Rev. X 1,
  021006, 2011; it holds on Bitcoin too: Donier and Bonart, "A million metaorder analysis of market impact on the
  Bitcoin", Market Microstructure and Liquidity 1, 2015), with sigma_D the window's daily volatility (standard
  deviation of log close-to-close returns x sqrt(bars per day)), V_D its mean daily quote volume and Y = ``impact_y``
  (of order 1 in those studies; 1 here). From the move's target t the run's end e solves e = t moved on by
  I(F(e)): the forced flow carries price on through dense levels (each swept level adds to F) and the run stops
  at the first price where the map is too thin for its own flow to push further (the loop "feeds itself until
  the leverage thins out", the seeds). The smallest such e is found by iterating from t (each step only moves e
  further and F is non-decreasing, so it converges). ``exhaustion_price`` is that e, ``exhaustion_pct`` its
  distance from the close (%), ``run_forced_usd`` = F(e). A run that reaches the edge of the grid (close x
  (1 +/- map_range_pct %)) has no exhaustion inside the map: price null, ``beyond_map``.
- A fixed thin-zone threshold is there too, off by default: with ``thin_fraction`` > 0 a grid bin is thin below
  ``thin_fraction`` x the mean of that side's non-empty bins, and a run that ends inside a bin that is not thin goes
  on to the near edge of the next thin bin. Measured on the sim's scalping regime against where its cascades
  really stopped (tests/overlays/liquidations/test_cascade_sim.py; tuning seeds SCALP1..3 before 2025-05-01,
  median error of the stop in % of price on the true map with the sim's Y; on the calibrated model's map, seeds 1-2,
  Y = 2.5): 0 (the run alone) 0.24-0.35 / 0.46-0.49, 0.5 0.41-0.55 / 1.40-2.22, 1.5 0.28-0.41 / 0.55-0.84; no
  cascade (the target itself) 1.33-1.75. The threshold only moves the stop further than the flow carries it: 0.
- Typical hourly volume at a price (``activity.py``): the median per-hour quote volume of the window's bars whose
  [low, high] contains the price (the window's median where none does). ``forced_share_of_hourly_volume`` =
  forced_usd / that volume.
- Summary per side: the smallest move, scanned on every grid bin edge of that side and the listed moves, whose
  forced notional reaches one typical hour of volume at its price (null when none inside the map).

The model's notional carries ``notional_scale`` (all-exchange liquidations per modelled dollar), the volume is the
venue's: the share compares an all-exchange estimate with one venue's volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .activity import Activity, activity, bars_activity, hourly_volume_at

__all__ = ["DEFAULT_MOVES_PCT", "IMPACT_Y", "THIN_FRACTION", "Activity", "SideWalk", "activity", "bars_activity",
           "cascade_view", "hourly_volume_at", "run_end", "side_walk"]

DEFAULT_MOVES_PCT = (1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0)
THIN_FRACTION = 0.0  # the run alone (module doc: a fixed threshold measured worse)
IMPACT_Y = 1.0
MAX_STEPS = 500  # iterations of the run; each one moves the end further (sim cascades: median 3, max 127)
TOLERANCE = 1e-10  # log-price distance below which the run has settled


@dataclass(frozen=True)
class SideWalk:
    """One side of the grid as a walk away from the close: step j is the j-th bin from the close's, spanning
    log-distances [start[j], end[j]] from the close and holding usd[j]."""

    usd: np.ndarray
    start: np.ndarray
    end: np.ndarray
    thin: np.ndarray
    next_thin: np.ndarray  # first thin step >= j (len when none)
    threshold: float
    down: bool

    def forced(self, u: np.ndarray) -> np.ndarray:
        """Notional between the close and log-distance ``u`` (linear inside a bin; the total beyond the grid)."""
        u = np.asarray(u, dtype="float64")
        before = np.concatenate([[0.0], np.cumsum(self.usd)])
        j = np.searchsorted(self.end, u, side="left")
        inside = j < len(self.usd)
        jj = np.minimum(j, len(self.usd) - 1)
        width = self.end[jj] - self.start[jj]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(width > 0, (u - self.start[jj]) / width, 1.0)
        part = before[jj] + self.usd[jj] * np.clip(frac, 0.0, 1.0)
        return np.where(inside, part, before[-1])

    def price(self, close: float, u: np.ndarray) -> np.ndarray:
        return close * np.exp(-u if self.down else u)

    def distance(self, close: float, price: np.ndarray) -> np.ndarray:
        r = np.asarray(price, dtype="float64") / close
        return -np.log(r) if self.down else np.log(r)


def side_walk(grid: dict[str, Any], close: float, side: str, thin_fraction: float) -> SideWalk:
    """The walk of ``side`` ("long": down from the close, "short": up) over a cluster grid."""
    usd_all = np.asarray(grid[f"{side}_usd"], dtype="float64")
    edges = np.append(grid["price_low"], grid["price_high"][-1])
    c = int(grid["close_bin"])
    nonzero = usd_all[usd_all > 0]
    threshold = thin_fraction * float(nonzero.mean()) if len(nonzero) else 0.0
    if side == "long":
        usd = usd_all[: c + 1][::-1]
        far = edges[: c + 1][::-1]  # the low edge of bins c, c-1, ..., 0
        end = np.log(close / far)
    else:
        usd = usd_all[c:]
        end = np.log(edges[c + 1:] / close)
    end = np.maximum(end, 0.0)
    start = np.concatenate([[0.0], end[:-1]])
    thin = usd < threshold if threshold > 0 else np.ones(len(usd), dtype=bool)
    idx = np.where(thin, np.arange(len(usd)), len(usd))
    next_thin = np.minimum.accumulate(idx[::-1])[::-1]
    return SideWalk(usd, start, end, thin, next_thin, threshold, side == "long")


def impact_distance(forced: np.ndarray, act: Activity, impact_y: float, down: bool) -> np.ndarray:
    """Log-price distance the square-root law gives the forced flow: I = Y sigma_D sqrt(F / V_D) (Toth et al.
    2011), as -ln(1 - I) down (I capped at 0.99) and ln(1 + I) up."""
    if not (act.daily_volume > 0) or not (act.daily_vol > 0) or impact_y <= 0:
        return np.zeros(len(forced))
    impact = impact_y * act.daily_vol * np.sqrt(np.maximum(forced, 0.0) / act.daily_volume)
    return -np.log1p(-np.minimum(impact, 0.99)) if down else np.log1p(impact)


def run_end(walk: SideWalk, target: np.ndarray, act: Activity, impact_y: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-distance where each run from ``target`` exhausts (module doc) and whether it left the grid (a walk
    always has at least the close's bin)."""
    n = len(walk.usd)
    u = np.asarray(target, dtype="float64").copy()
    u_max = walk.end[-1]
    beyond = u > u_max
    for _ in range(MAX_STEPS):
        carried = np.maximum(u, target + impact_distance(walk.forced(u), act, impact_y, walk.down))
        j = np.searchsorted(walk.end, carried, side="left")  # the step holding the carried price
        k = walk.next_thin[np.minimum(j, n - 1)]  # the first thin step from there
        leaves = (j >= n) | (k >= n)
        new = np.where(leaves, u_max, np.where(k == j, carried, walk.start[np.minimum(k, n - 1)]))
        beyond |= leaves
        settled = (new <= u + TOLERANCE) | beyond
        u = np.where(beyond, u_max, np.maximum(u, new))
        if settled.all():
            break
    return u, beyond


def cascade_view(grid: dict[str, Any], close: float, act: Activity, moves: tuple[float, ...] = DEFAULT_MOVES_PCT,
                 thin_fraction: float = THIN_FRACTION, impact_y: float = IMPACT_Y) -> dict[str, Any]:
    """The ``cascade`` part: per side ("down" = long levels, "up" = short levels) one row per move of ``moves``
    (% of the close), the summary per side and the rule's constants (module doc)."""
    moves = tuple(float(m) for m in moves)
    x = np.asarray(moves, dtype="float64") / 100
    walks = {d: side_walk(grid, close, side, thin_fraction) for d, side in (("down", "long"), ("up", "short"))}
    targets = {"down": -np.log1p(-np.minimum(x, 0.999999)), "up": np.log1p(x)}
    # the summary scans every bin edge of the side and the listed moves (inside the grid)
    scans = {d: np.unique(np.concatenate([w.end[w.end > 0], targets[d][targets[d] <= w.end[-1]]]))
             for d, w in walks.items()}
    prices = {d: w.price(close, targets[d]) for d, w in walks.items()}
    scan_prices = {d: w.price(close, scans[d]) for d, w in walks.items()}
    # one pass over the bars for every price asked
    parts = [prices["down"], prices["up"], scan_prices["down"], scan_prices["up"]]
    volume = np.split(hourly_volume_at(np.concatenate(parts), act), np.cumsum([len(p) for p in parts])[:-1])
    volumes = {"down": volume[0], "up": volume[1]}
    scan_volumes = {"down": volume[2], "up": volume[3]}
    out: dict[str, Any] = {"moves_pct": list(moves)}
    for direction, walk in walks.items():
        forced = walk.forced(targets[direction])
        end, beyond = run_end(walk, targets[direction], act, impact_y)
        end_price = walk.price(close, end)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = forced / volumes[direction]
        out[direction] = [
            {"move_pct": m, "price": float(p), "forced_usd": float(f), "hourly_volume_usd": _num(v),
             "forced_share_of_hourly_volume": _num(s), "beyond_map": bool(b),
             "exhaustion_price": None if b else float(e),
             "exhaustion_pct": None if b else abs(float(e) / close - 1) * 100, "run_forced_usd": float(rf)}
            for m, p, f, v, s, b, e, rf in zip(moves, prices[direction], forced, volumes[direction], share, beyond,
                                               end_price, walk.forced(end), strict=True)
        ]
    out["summary"] = {d: _first_hour(w, scans[d], scan_prices[d], scan_volumes[d]) for d, w in walks.items()}
    out["rule"] = {"thin_fraction": thin_fraction, "impact_y": impact_y, "daily_volatility_pct": act.daily_vol * 100,
                   "thin_threshold_usd": {"long": walks["down"].threshold, "short": walks["up"].threshold},
                   "daily_volume_usd": _num(act.daily_volume),
                   "median_hourly_volume_usd": _num(act.median_hourly_volume)}
    return out


def _first_hour(walk: SideWalk, u: np.ndarray, prices: np.ndarray, volume: np.ndarray) -> dict[str, Any] | None:
    """The first of the scanned log-distances ``u`` (ascending) whose forced notional reaches one typical hour of
    volume at its price."""
    forced = walk.forced(u)
    over = np.flatnonzero(forced >= volume)
    if not len(over):
        return None
    i = int(over[0])
    move = (1 - np.exp(-u[i])) if walk.down else np.expm1(u[i])
    return {"move_pct": float(move * 100), "price": float(prices[i]), "forced_usd": float(forced[i]),
            "hourly_volume_usd": float(volume[i])}


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
