"""The built-in deterministic market simulator, exchange ``sim``: no network, same answer every time.

A world of USD-M perpetuals that begins at 2024-01-01T00:00Z (``GENESIS_MS``) and grows with the clock:

- ``daily.py``    daily backbone: GARCH(1,1) volatility, Student-t(4) shocks, mean reversion into a per-symbol
                  band (BTC ~60k-110k, ETH ~2k-4.5k, SOL ~100-250, other symbols a level derived from their seed).
- ``regimes.py``  named regimes chosen by symbol name (HOLD* long-hold, SCALP* scalping, TREND* crowded-trend,
                  RANGE* range, anything else default): leverage mix, holding times, entries, crowding, price
                  process, impact strength, funding premium. ``default`` is fitted to Binance/Coinglass BTC.
- ``minutes.py``  raw 1-minute path per day (a bridge between daily closes; intraday seasonality, hourly
                  volatility clustering, jumps and wicks), volume, taker-buy flow.
- ``impact.py``   the 1h cohorts' liquidations move those minutes (square-root impact at the hour's extreme,
                  transient + persistent; cascades), computed per 16-day block from genesis.
- ``prices.py``   every timeframe (1m .. 1d) is the exact aggregate of the adjusted minutes, so a 4h bar equals
                  its four 1h bars.
- ``cohorts.py``  leveraged cohorts opened every bar of a timeframe (one definition, on any bar matrix);
  ``traders.py``  voluntary closes and liquidations (Binance isolated formula); open interest and accounts.
                  Positions are simulated PER TIMEFRAME (cohorts open on that timeframe's bars), with a warm-up of
                  14 days (the longest holding time) before any range, so values never depend on the range asked.
- ``funding.py``  8-hourly funding from the crowding of the 1h cohorts (Binance formula, clamp and caps).
- ``truth.py``    ground truth: cohorts, liquidations per bar, the true liquidation map, liquidation prints.
- ``source.py``   ``SimSource``, the ``MarketSource`` implementation (with ``fetch_liquidations``, ``regime``,
                  ``regime_params``).

Randomness comes from Philox counter-based generators keyed by (stable symbol hash, stream, day or bar block), so
any part of the world is computed on its own and identically every time. Open interest starts from zero at
genesis (the base OI only), so the first 14 days are a ramp-up.
"""

from .params import GENESIS_MS
from .source import SimSource

__all__ = ["GENESIS_MS", "SimSource"]
