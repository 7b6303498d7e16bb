"""Constants of the simulated world: genesis, per-symbol profiles, leverage tiers, seeds.

Everything random in the simulator comes from counter-based generators (numpy's Philox) keyed by
``(symbol seed, stream, index)``, so any day, block of bars or cohort can be produced on its own, in any order,
and always comes out the same (random access, as JAX/numpy counter-based RNG designs intend).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

GENESIS_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z: no bar of the simulated world opens earlier.
DAY_MINUTES = 1440
BLOCK_DAYS = 16  # minute paths are generated and cached in blocks of this many days

SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,15}USDT$")

# Leverage tiers (the share of new notional each receives is the regime's, regimes.py).
LEVERAGE_TIERS = np.array([2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0])
# Binance USD-M BTCUSDT bracket 1 (notional 0-50k, max 125x): MMR 0.4 %, maintenance amount 0. Each cohort stands
# for many small tickets, each inside bracket 1, so cum = 0 (DOMAIN.md section 2).
MAINTENANCE_MARGIN_RATE = 0.004

# Traders (per regime in regimes.py: tier weights, flow share, holding times, entries, crowding); ticket sizes.
MAX_HOLD_MS = 14 * 86_400_000  # holding times are capped: this is also the warm-up simulated before a range
TICKET_USD = 25_000.0  # typical account ticket at 1x; tickets shrink with sqrt(leverage)
LONG_TICKET_FACTOR = 0.8  # long accounts are smaller (retail leans long), so the account ratio sits above 1

# Funding (Binance USD-M): premium from crowding, interest 0.01 % per 8 h, clamp +/-0.05 %, caps per symbol.
FUNDING_INTERVAL_HOURS = 8
FUNDING_INTEREST = 0.0001
FUNDING_CLAMP = 0.0005
PREMIUM_PER_IMBALANCE = 0.004  # default of funding_rate(); each regime sets its own (regimes.py)


@dataclass(frozen=True)
class Profile:
    """Per-symbol parameters of the price and volume processes."""

    symbol: str
    seed: int
    start_price: float
    band_low: float  # the daily log-price is pulled back into [band_low, band_high]
    band_high: float
    daily_vol: float  # long-run daily volatility of log returns
    daily_quote_volume: float  # typical USD volume per day
    trade_size_usd: float
    tick: float
    funding_cap: float
    lot: float  # quantity step (worth ~0.001 USD): whole lots sum exactly in float64, whatever the order
    drift: float = 0.0  # log drift per day of the band's centre (crowded-trend regime; sign chosen per seed)


_KNOWN = {
    # symbol: start price, band low, band high, daily vol, USD volume per day, USD per trade, funding cap
    "BTCUSDT": (65_000.0, 60_000.0, 110_000.0, 0.025, 22e9, 4_000.0, 0.003),
    "ETHUSDT": (2_400.0, 2_000.0, 4_500.0, 0.035, 8e9, 2_500.0, 0.003),
    "SOLUSDT": (110.0, 100.0, 250.0, 0.045, 2.5e9, 1_200.0, 0.0075),
}


def symbol_seed(symbol: str) -> int:
    """A stable 63-bit seed from the symbol (Python's ``hash()`` is randomised per process)."""
    digest = hashlib.blake2b(symbol.encode(), digest_size=8, person=b"indsrv-sim").digest()
    return int.from_bytes(digest, "little") >> 1


def generator(seed: int, stream: int, index: int) -> np.random.Generator:
    """The Philox generator of one (stream, index) cell of a symbol's world."""
    key = np.array([seed, (stream << 40) + (index & ((1 << 40) - 1))], dtype=np.uint64)
    return np.random.Generator(np.random.Philox(key=key))


def tick_for(price: float) -> float:
    return 10.0 ** (math.floor(math.log10(price)) - 5)


@lru_cache(maxsize=256)
def profile(symbol: str) -> Profile:
    """Known symbols keep their own levels; any other symbol draws its level, volatility and volume from its seed,
    with the band, volatility scale and drift of its regime (``regimes.py``)."""
    from .regimes import regime_for

    seed = symbol_seed(symbol)
    regime = regime_for(symbol)
    drift = 0.0
    if symbol in _KNOWN:
        start, low, high, vol, quote, trade, cap = _KNOWN[symbol]
    else:
        u = generator(seed, 0, 0).random(4)
        start = float(10 ** (-2 + 4.5 * u[0]))  # 0.01 .. ~300 USD
        if regime.name == "default":
            low, high = start / 1.5, start * 2.0
        else:
            low, high = start / math.sqrt(regime.band_ratio), start * math.sqrt(regime.band_ratio)
        vol = (0.045 + 0.03 * float(u[1])) * regime.vol_scale
        quote = float(10 ** (7.3 + 1.5 * u[2]))  # ~20M .. ~630M USD per day
        trade, cap = 600.0, 0.0075
        drift = regime.drift_per_day * (1.0 if u[3] < 0.5 else -1.0)
    lot = 10.0 ** math.floor(math.log10(1e-3 / start))
    return Profile(symbol, seed, start, low, high, vol, quote, trade, tick_for(start), cap, lot, drift)
