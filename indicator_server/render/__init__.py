"""Pictures and generated code from the liquidation estimate, for bots and TradingView: pure (no Flask).

- ``render_heatmap_png(bars, result, meta, width=, height=) -> bytes`` (heatmap_png)
- ``render_map_png(bars, result, meta, width=, height=) -> bytes`` (map_png)
- ``generate_pine(meta, result, levels, max_clusters=, generator=) -> str`` (pine_script)
"""

from .heatmap_png import render_heatmap_png
from .map_png import render_map_png
from .pine_script import generate_pine

__all__ = ["generate_pine", "render_heatmap_png", "render_map_png"]
