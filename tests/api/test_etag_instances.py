"""Two instances that share no cache answer the same bars with one ETag: it hashes the data, not the wall clock."""

from __future__ import annotations

import pytest

from indicator_server import create_app
from tests.conftest import Clock

PATHS = [
    "/api/v1/overlays/oi-delta?symbol=BTCUSDT&limit=200",
    "/api/v1/overlays/confluence?symbol=ETHUSDT&limit=200",
    "/api/v1/overlays/liquidations?symbol=BTCUSDT&lookback=200&bins=100",
    "/api/v1/candles?symbol=SOLUSDT&limit=100",
]


@pytest.fixture
def two_instances(tmp_path, settings):
    clock = Clock()
    apps = [create_app(settings.with_overrides(database_url=f"sqlite:///{tmp_path / f'i{i}.db'}"), clock=clock)
            for i in range(2)]
    yield [app.test_client() for app in apps], clock
    for app in apps:
        app.extensions["indicator"].db.dispose()


@pytest.mark.parametrize("path", PATHS)
def test_same_bars_same_etag_on_another_instance(two_instances, path):
    (a, b), clock = two_instances
    first = a.get(path)
    clock.advance(7)  # the same bar, a few seconds later: generated_at and age_seconds differ
    second = b.get(path)
    assert first.status_code == second.status_code == 200
    assert first.get_json()["meta"]["freshness"]["generated_at"] != second.get_json()["meta"]["freshness"][
        "generated_at"]
    assert first.headers["ETag"] == second.headers["ETag"] and first.headers["ETag"].startswith('W/"')
    assert b.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert a.get(path, headers={"If-None-Match": second.headers["ETag"]}).status_code == 304


def test_different_data_different_etag(two_instances):
    (a, _), clock = two_instances
    path = PATHS[0]
    first = a.get(path).headers["ETag"]
    clock.advance(3600)  # a bar closed
    assert a.get(path).headers["ETag"] != first
