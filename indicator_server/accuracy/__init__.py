"""``indicator-server accuracy``: the liquidation map's where- and when-scores per sim regime and on real data,
next to two baselines (issue 9).

Modules: ``data`` (loaders of the shared real-data folder), ``stats`` (daily sums, Spearman, ratios),
``baselines`` (volume at price; excursion x OI), ``predictors`` (one shape for every predictor), ``metrics``
(scores against a true map and true liquidations), ``sim_scores`` (regimes, held-out seeds and windows),
``real_scores`` (Coinglass timing and totals, forceOrder where-check), ``table`` (the printed table and JSON),
``command`` (the CLI). Pure maths and file reading: no Flask, no network.

Entry point: ``run_accuracy(regimes=None, *, quick=False, real=True, data_dir=None) -> dict``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_accuracy(regimes: list[str] | None = None, *, quick: bool = False, real: bool = True,
                 data_dir: Path | str | None = None, command: str = "indicator-server accuracy") -> dict[str, Any]:
    """Every block of the table: ``{"command", "quick", "rules", "sim": {regime: ...}, "real": {...} | None}``."""
    from . import data, sim_scores
    from .real_scores import run_real

    rules = {"sim_tuning_seeds": list(sim_scores.TUNING_SEEDS), "sim_scored_seeds": list(sim_scores.SCORED_SEEDS),
             "sim_tuning_ends": list(sim_scores.TUNING_ENDS), "tune_end": data.TUNE_END,
             "real_held_out_days": list(data.HELD_OUT),
             "symbols": {name: f"{code}<seed>USDT" for name, code in sim_scores.CODES.items()}}
    return {"command": command, "quick": quick, "rules": rules, "sim": sim_scores.run_regimes(regimes, quick=quick),
            "real": run_real(data_dir) if real else None}


__all__ = ["run_accuracy"]
