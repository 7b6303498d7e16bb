"""schemathesis 4 against the real server (gunicorn, 2 workers, simulator) from /openapi.json alone: every
operation, every phase (examples, coverage, fuzzing, stateful), ``--checks all`` with negative data, 0 failures.

Nothing is excluded: schemathesis's ``positive_data_acceptance`` is replaced by ``valid_request_accepted``
(benchmarks/fuzz_api.py), the same check minus the refusals OpenAPI 3.0 cannot declare, each listed there with its
reason (cross-field, data or deployment dependent). The longer run is ``python -m benchmarks.fuzz_api``.
"""

from __future__ import annotations

import pytest

from indicator_server import create_app
from indicator_server.config import Settings
from tests.conftest import IN_CI

if not IN_CI:  # in CI a missing schemathesis is a failure (the import below), never a skip
    pytest.importorskip("schemathesis", reason="schemathesis>=4 is in the test extras: pip install -e '.[test]'")

from benchmarks.fuzz_api import CROSS_FIELD_REFUSALS, run  # noqa: E402

# Per operation and generation mode, in the fuzzing phase; the coverage phase (boundaries, every negative value)
# is exhaustive whatever this is. 10 keeps the run near 90 s on 2 shared cores; benchmarks.fuzz_api runs 100.
EXAMPLES = 10


def test_schemathesis_finds_no_failure(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", context_workers=False))
    spec = app.extensions["indicator_api"].spec.to_dict()
    app.extensions["indicator"].db.dispose()
    operations = sum(1 for item in spec["paths"].values() for method in item if method in ("get", "post"))
    rc, figures, output = run(EXAMPLES)
    assert figures["operations"] == operations, output[-3000:]
    assert figures["requests"] > 50 * operations, output[-3000:]
    assert (rc, figures["failures"], figures["errors"]) == (0, 0, 0), output[-6000:]


def test_every_tolerated_refusal_says_why():
    for path_re, code, message_re, why in CROSS_FIELD_REFUSALS:
        assert path_re and message_re and len(why) > 30, (path_re, code)
