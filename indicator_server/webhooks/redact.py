"""Keep webhook tokens out of gunicorn's access log: ``/webhook/tradingview/<token>`` is logged as
``/webhook/tradingview/***`` (the token is a WEBHOOK_SECRET value). Use with ``logger_class =
"indicator_server.webhooks.redact.RedactingLogger"`` in the gunicorn settings."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

_TOKEN = re.compile(r"(/webhook/tradingview/)[^\s?/]+")


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1***", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        for key in ("RAW_URI", "PATH_INFO", "REQUEST_URI"):
            env_key = "{" + key.lower() + "}e"
            if isinstance(atoms.get(env_key), str):
                atoms[env_key] = redact(atoms[env_key])
        return atoms
