"""Estimated liquidation levels (the OI-flow model, DOMAIN.md section 3) and their products: level list,
liquidation map, clusters, max pain, heatmap and per-bar swept notional.

Stable entry points (other modules call them):

- ``estimate_liquidations(bars, params=None, *, bins=500, include=DEFAULT_INCLUDE, leverage=None)
  -> LiquidationResult``
- ``clusters_per_bar(bars, params=None, *, max_rows=20_000) -> DataFrame`` (confluence input; clusters do not
  depend on ``bins``, which only sets the resolution of the map and heatmap)
- ``LiquidationParams`` (``LiquidationParams.from_dict(overrides)``)
"""

from .model import (
    CLUSTER_COLUMNS,
    DEFAULT_BINS,
    DEFAULT_INCLUDE,
    PARTS,
    LiquidationResult,
    clusters_per_bar,
    estimate_liquidations,
)
from .params import LEVERAGE_GROUPS, MODEL_NAME, MODEL_VERSION, LiquidationParams, leverage_for_names

__all__ = [
    "CLUSTER_COLUMNS",
    "DEFAULT_BINS",
    "DEFAULT_INCLUDE",
    "LEVERAGE_GROUPS",
    "MODEL_NAME",
    "MODEL_VERSION",
    "PARTS",
    "LiquidationParams",
    "LiquidationResult",
    "clusters_per_bar",
    "estimate_liquidations",
    "leverage_for_names",
]
