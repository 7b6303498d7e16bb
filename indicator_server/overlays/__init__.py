"""Pure maths of the overlays: frames and arrays in, frames and arrays out (no Flask, no I/O)."""

from indicator_server.overlays.confluence import CLUSTER_COLUMNS, CONFLUENCE_COLUMNS, compute_confluence
from indicator_server.overlays.confluence_params import ConfluenceParams
from indicator_server.overlays.funding import annualize_funding, compute_funding
from indicator_server.overlays.oi_delta import OI_DELTA_COLUMNS, QUADRANTS, compute_oi_delta
from indicator_server.overlays.rsi import compute_rma, compute_rsi
from indicator_server.overlays.zscore import rolling_zscore

__all__ = [
    "CLUSTER_COLUMNS",
    "CONFLUENCE_COLUMNS",
    "OI_DELTA_COLUMNS",
    "QUADRANTS",
    "ConfluenceParams",
    "annualize_funding",
    "compute_confluence",
    "compute_funding",
    "compute_oi_delta",
    "compute_rma",
    "compute_rsi",
    "rolling_zscore",
]
