"""Which liquidation model a request gets: ``model=calibrated`` (default) or ``default`` (the fixed priors), and
named overrides of the model's free parameters; the calibration is computed once per closed bar and shared.

- Query fields (``MODEL_FIELDS``, mixed into the liquidations query schemas): ``model``, ``flow_source``,
  ``half_life_hours`` (the volume flow's ``volume_half_life_hours`` and the OI flows' ``decay_half_life_hours``),
  ``split``, ``leverage_tiers`` + ``leverage_weights`` (comma lists; tiers without weights weigh equally),
  ``notional_scale``, ``cluster_bin_pct``, ``cluster_density``. They are checked by ``LiquidationParams`` itself,
  so the API refuses exactly what the model refuses (400, the field named).
- Calibration (``overlays.liquidations.calibrate``): on the ``CALIBRATION_BARS`` bars ending at the request's last
  bar (causal: never later data), with the overrides as the prior and fixed (``fix=``: never fitted). The
  ``Calibration`` is kept in the app's shared cache (the overlays' cache, seen by every worker) under
  (exchange, symbol, timeframe, last bar, overrides), so it is fitted once per closed bar and refreshed when the
  next bar closes (a new last bar is a new key).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
import pandas as pd
from marshmallow import ValidationError, fields, validate

from ..errors import InvalidArgument, UpstreamError
from ..market.assemble import LIQUIDATION_BAR_COLUMNS
from ..overlays.liquidations import LEVERAGE_GROUPS, MODEL_VERSION, LiquidationParams
from ..overlays.liquidations.calibrate import MIN_CALIBRATION_BARS, calibrate_liquidations, calibration_bars_for
from ..overlays.liquidations.params import FLOW_SOURCES, SPLITS

log = logging.getLogger(__name__)

MODELS = ("calibrated", "default")
CALIBRATION_TTL = 24 * 3600  # a key names its last bar: expiry only frees the space of bars long closed
_TIER = r"(?:(?:[2-9]|[1-9][0-9]{1,2})(?:\.[0-9]{1,4})?|1\.[0-9]{0,3}[1-9])"  # > 1x, at most 999.9999x
_WEIGHT = r"(?:0|[0-9]{1,3}(?:\.[0-9]{1,6})?)"
MAX_TIERS = 12
TIERS_PATTERN = f"^{_TIER}(?:,{_TIER}){{0,{MAX_TIERS - 1}}}$"
WEIGHTS_PATTERN = f"^{_WEIGHT}(?:,{_WEIGHT}){{0,{MAX_TIERS - 1}}}$"
OVERRIDES = ("flow_source", "half_life_hours", "half_life_leverage_exponent", "split", "leverage_tiers",
             "leverage_weights", "notional_scale", "cluster_bin_pct", "cluster_density")


def model_fields() -> dict[str, fields.Field]:
    """The query fields choosing the model (fresh instances: one set per schema class)."""
    return {
        "model": fields.String(load_default="calibrated", validate=validate.OneOf(MODELS), metadata={
            "description": "calibrated: the model's free parameters fitted to this market on the bars ending at "
                           "the last one (cached per closed bar); default: the fixed priors, no fit."}),
        "flow_source": fields.String(load_default=None, validate=validate.OneOf(FLOW_SOURCES), metadata={
            "description": "Where new positions come from (oi, volume, blend); never fitted when given."}),
        "half_life_hours": fields.Float(load_default=None, validate=validate.Range(min=0.1, max=100_000),
                                        metadata={"description": "Holding time: the volume flow's position "
                                                  "half-life and the OI flows' extra decay, hours."}),
        "half_life_leverage_exponent": fields.Float(
            load_default=None, validate=validate.Range(min=0, max=2), metadata={
                "description": "alpha: a tier of leverage L holds half_life_hours x (L/10)^-alpha (0: every tier "
                               "the same half-life)."}),
        "split": fields.String(load_default=None, validate=validate.OneOf(SPLITS), metadata={
            "description": "Long/short split of new positions (taker, candle, ratio, even, blend)."}),
        "leverage_tiers": fields.String(load_default=None, validate=validate.Regexp(
            TIERS_PATTERN, error=f"distinct tiers > 1x, comma-separated, at most {MAX_TIERS}"), metadata={
            "description": "Leverage tiers of the model (\"5,10,25\"); without leverage_weights they weigh equally."}),
        "leverage_weights": fields.String(load_default=None, validate=validate.Regexp(
            WEIGHTS_PATTERN, error="weights >= 0, comma-separated, one per tier"), metadata={
            "description": "One weight per tier (of leverage_tiers, else of the default tiers), normalised."}),
        "notional_scale": fields.Float(load_default=None, validate=validate.Range(min=1e-6, max=1_000_000),
                                       metadata={"description": "Multiplier of every notional."}),
        "cluster_bin_pct": fields.Float(load_default=None, validate=validate.Range(min=0.01, max=10), metadata={
            "description": "Width of one bin of the cluster grid, % of price."}),
        "cluster_density": fields.Float(load_default=None, validate=validate.Range(min=0.01, max=1000),
                                        metadata={"description": "A grid bin is dense at this multiple of its "
                                                  "side's mean non-empty bin."}),
    }


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def model_overrides(args: dict[str, Any]) -> dict[str, Any]:
    """The overrides the request names, as query names with parsed values (the echo in meta.parameters)."""
    out: dict[str, Any] = {}
    for name in OVERRIDES:
        value = args.get(name)
        if value is not None:
            out[name] = _floats(value) if name in ("leverage_tiers", "leverage_weights") else value
    return out


def params_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Query overrides -> ``LiquidationParams`` fields."""
    out = {k: v for k, v in overrides.items() if k != "half_life_hours"}
    if "half_life_hours" in overrides:
        out["volume_half_life_hours"] = out["decay_half_life_hours"] = overrides["half_life_hours"]
    if "leverage_tiers" in out and "leverage_weights" not in out:
        out["leverage_weights"] = [1.0] * len(out["leverage_tiers"])
    return out


_QUERY_NAME = {"volume_half_life_hours": "half_life_hours", "decay_half_life_hours": "half_life_hours"}


def check_overrides(args: dict[str, Any]) -> None:
    """Raise a marshmallow ``ValidationError`` naming the query fields ``LiquidationParams`` refuses."""
    given = model_overrides(args)
    try:
        LiquidationParams.from_dict(params_overrides(given))
    except InvalidArgument as exc:
        details = exc.details or {}
        problems = {_QUERY_NAME.get(k, k): [str(v)] for k, v in details.items() if k not in ("error",)}
        if "leverage_tiers" in problems and "leverage_tiers" not in given:  # weights that do not fit the defaults
            problems["leverage_weights"] = [f"one weight per default tier ({len(LiquidationParams().leverage_tiers)})"]
            del problems["leverage_tiers"]
        raise ValidationError(problems or {"model": [str(details.get("error", exc.message))]}) from None


def model_query(args: dict[str, Any]) -> dict[str, Any]:
    """``model`` and the overrides given: part of meta.parameters and of the overlay cache key."""
    return {"model": args.get("model") or "calibrated", **model_overrides(args)}


def prior_for(query: dict[str, Any]) -> tuple[LiquidationParams, tuple[str, ...]]:
    """The prior (defaults updated with the overrides) and the fields the user fixed."""
    changes = params_overrides({k: v for k, v in query.items() if k != "model"})
    return LiquidationParams.from_dict(changes), tuple(sorted(changes))


_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock(key: str) -> threading.Lock:
    with _guard:
        if len(_locks) > 1024:
            _locks.clear()
        return _locks.setdefault(key, threading.Lock())


def _encode(params: LiquidationParams, info: dict[str, Any]) -> bytes:
    return orjson.dumps({"params": params.to_dict(), "info": info})


def _decode(value: bytes) -> tuple[LiquidationParams, dict[str, Any]]:
    data = orjson.loads(value)
    return LiquidationParams.from_dict(data["params"]), data["info"]


def calibration_bars(market, args: dict[str, Any], frame: pd.DataFrame, *,
                     prints: bool) -> tuple[pd.DataFrame, list[str]]:
    """The ``CALIBRATION_BARS`` bars (``calibration_bars_for``: fewer when the venue publishes no liquidation
    prints) ending at the request's last bar: the request's own tail when it is long enough, else fetched (same
    market service, so the same store, breaker and cache). When that fetch fails, the request's bars with a
    warning (and the result is not cached)."""
    wanted = calibration_bars_for(args["timeframe"], prints=prints)
    if len(frame) >= wanted:
        return frame.iloc[-wanted:].reset_index(drop=True), []
    end = int(frame["time"].iloc[-1])
    try:
        bars = market.bars(args.get("exchange"), args["symbol"], args["timeframe"], limit=wanted, end=end,
                           liquidations=True)
    except (UpstreamError, InvalidArgument) as exc:
        return frame, [f"calibration on the request's {len(frame)} bars only: {exc.message}"]
    fetched = bars.requested
    fetched = fetched[fetched["time"] <= end].reset_index(drop=True)  # causal: nothing after the last bar
    return (fetched, []) if len(fetched) >= len(frame) else (frame, [])


def choose_params(svc, args: dict[str, Any], query: dict[str, Any],
                  frame: pd.DataFrame) -> tuple[LiquidationParams, dict[str, Any] | None, list[str]]:
    """(params used, calibration info or None for ``model=default``, warnings) for the request's bars."""
    prior, fixed = prior_for(query)
    if query.get("model") == "default" or frame.empty:
        return prior, None, []
    source = svc.market.source(args.get("exchange"))
    identity = orjson.dumps({k: v for k, v in query.items() if k != "model"}, option=orjson.OPT_SORT_KEYS).decode()
    key = (f"calibration|{MODEL_VERSION}|{source.name}|{(args.get('symbol') or '').upper()}|{args['timeframe']}|"
           f"{int(frame['time'].iloc[-1])}|{identity}")
    cached = svc.cache.get(key)
    if cached is not None:
        params, info = _decode(cached)
        return params, info, _notes(info)
    with _lock(key):
        cached = svc.cache.get(key)
        if cached is not None:
            params, info = _decode(cached)
            return params, info, _notes(info)
        bars, notes = calibration_bars(svc.market, args, frame,
                                       prints=bool(getattr(source, "has", {}).get("liquidations")))
        if any(c in bars and len(bars) and bars[c].isna().all() for c in LIQUIDATION_BAR_COLUMNS):
            notes.append("the venue's liquidation prints are unavailable: fitted without them, not cached")
        try:
            calibration = calibrate_liquidations(bars, prior, fix=fixed)
            params, info = calibration.params, calibration.info
        except Exception as exc:  # a fit that fails must not fail the map: the prior answers, said so
            log.exception("calibration of %s failed", key)
            params, info = prior, {"method": "prior", "fitted": {}, "warnings": [f"the fit failed ({exc!r}): "
                                                                               "the prior is used"]}
            notes.append("not cached")
        info = dict(info, warnings=list(info.get("warnings", [])) + notes)
        value = _encode(params, info)
        if not notes and len(bars) >= MIN_CALIBRATION_BARS:
            value = svc.cache.add(key, value, CALIBRATION_TTL)  # every worker answers the first one's fit
        params, info = _decode(value)
        return params, info, _notes(info)


def _notes(info: dict[str, Any]) -> list[str]:
    return [f"calibration: {w}" for w in info.get("warnings", [])]


def resolve_leverage(tokens: list[str] | None, tiers: tuple[float, ...]) -> tuple[tuple[float, ...] | None,
                                                                                   list[str]]:
    """A leverage filter (group names, tier values) on the tiers of the model actually used: names pick every
    tier in their range (a calibrated model may have tiers the defaults lack), values must be tiers of it."""
    if tokens is None:
        return None, []
    chosen: set[float] = set()
    missing: list[str] = []
    for token in tokens:
        if token in LEVERAGE_GROUPS:
            lo, hi = LEVERAGE_GROUPS[token]
            chosen.update(t for t in tiers if lo <= t <= hi)
        elif float(token) in tiers:
            chosen.add(float(token))
        else:
            missing.append(f"{token}x")
    kept = tuple(t for t in tiers if t in chosen)
    if not kept:
        raise InvalidArgument(
            f"the leverage filter keeps no tier of the model used (tiers {', '.join(f'{t:g}x' for t in tiers)})",
            details={"field": "leverage", "filter": tokens, "tiers": list(tiers)})
    notes = [f"leverage {', '.join(missing)} is not a tier of the model used; kept "
             f"{', '.join(f'{t:g}x' for t in kept)}"] if missing else []
    return kept, notes
