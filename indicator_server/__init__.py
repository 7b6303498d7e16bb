"""indicator-server: liquidation, open-interest and confluence overlays for crypto derivatives."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask

from .config import Settings

__version__ = "0.1.0"


def create_app(
    settings: Settings | None = None,
    *,
    sources: Mapping[str, Any] | None = None,
    clock: Callable[[], float] | None = None,
) -> Flask:
    """Build the application.

    ``settings`` defaults to the environment; ``sources`` replaces market data sources by exchange name
    (tests inject fakes or sources pointed at a local replay server); ``clock`` returns the current time in
    seconds (the sim and "closed bar" logic use it; tests freeze it).
    """
    # Alembic narrates every plugin it loads at INFO: a dozen lines at every worker start.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from . import services
    from .api import init_api
    from .errors_http import register_error_handlers
    from .webhooks import init_app as init_webhooks

    settings = settings or Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )

    app = Flask(__name__)
    app.config.update(
        API_TITLE="indicator-server",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        MAX_CONTENT_LENGTH=None,
        JSON_SORT_KEYS=False,
    )
    app.config["SETTINGS"] = settings
    services.init_app(app, settings, sources=sources, clock=clock)
    init_webhooks(app)
    register_error_handlers(app)
    init_api(app)
    return app
