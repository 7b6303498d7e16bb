"""Liveness and readiness."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text

from .. import __version__
from ..services import services
from . import Blueprint

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")


class HealthSchema(Schema):
    status = fields.String(required=True)
    version = fields.String()


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"description": "ready or not_ready"})
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up and serving."""
        return {"status": "ok", "version": __version__}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, schema=ReadySchema, description="A dependency is not reachable.")
    def get(self):
        """The store (and the shared cache, when configured) answers."""
        svc = services()
        checks = {}
        ok = True
        try:
            with svc.db.session() as session:
                session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # readiness must report, not raise
            checks["database"] = f"error: {type(exc).__name__}"
            ok = False
        try:
            svc.cache.ping()
            checks["cache"] = "ok"
        except Exception as exc:
            checks["cache"] = f"error: {type(exc).__name__}"
            ok = False
        checks["exchanges"] = ",".join(sorted(svc.sources))
        body = {"status": "ready" if ok else "not_ready", "checks": checks}
        return body, (200 if ok else 503)
