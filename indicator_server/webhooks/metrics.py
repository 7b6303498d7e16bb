"""Counters of what the receiver did, per process: accepted, duplicates, and rejections by error code."""

from __future__ import annotations

import threading
from collections import Counter


class WebhookMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
        rejected = {k.removeprefix("rejected."): v for k, v in counts.items() if k.startswith("rejected.")}
        return {
            "accepted": counts.get("accepted", 0),
            "duplicates": counts.get("duplicates", 0),
            "rejected": sum(rejected.values()),
            "rejected_by_code": dict(sorted(rejected.items())),
        }
