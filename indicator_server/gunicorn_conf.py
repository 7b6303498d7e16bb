"""gunicorn settings (read by ``gunicorn`` through the repo's gunicorn.conf.py and by ``indicator-server serve``).

Environment: ``PORT`` (8000), ``HOST`` (0.0.0.0), ``WEB_CONCURRENCY`` workers (2), ``GUNICORN_TIMEOUT`` (30 s).
Sync workers: PERFORMANCE.md measured them steadiest at p99; every worker builds its own app from the factory.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
control_socket_disable = True
# The token URL /webhook/tradingview/<secret> must not reach the access log: it is written as ***.
logger_class = "indicator_server.webhooks.redact.RedactingLogger"
# Build the schema once in the master so workers do not race to create it.
preload_app = False


def on_starting(server):  # noqa: ARG001 - gunicorn hook signature
    from indicator_server.config import Settings
    from indicator_server.store.db import Database

    _share_the_overlay_cache()

    db = Database(Settings.from_env().database_url)
    db.create_schema()
    db.dispose()


_CACHE_DIR = None


def _share_the_overlay_cache():
    """Without CACHE_URL, the workers of this server share one cache directory (a per-worker memory cache made
    each worker compute its own body, so a poller's ETag flipped between workers and half its polls missed).
    Workers inherit the variable; the directory is this server's own and goes when the server stops."""
    global _CACHE_DIR
    if os.environ.get("CACHE_URL"):
        return
    import tempfile

    _CACHE_DIR = tempfile.mkdtemp(prefix="indicator-server-cache-")
    os.environ["CACHE_URL"] = f"file://{_CACHE_DIR}"


def on_exit(server):  # noqa: ARG001 - gunicorn hook signature
    if _CACHE_DIR:
        import shutil

        shutil.rmtree(_CACHE_DIR, ignore_errors=True)
