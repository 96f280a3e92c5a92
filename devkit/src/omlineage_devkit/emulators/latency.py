"""A latency model for the emulators: how long a loaded server takes to answer, by kind of request.

Shared by the OpenMetadata emulator (emulators/openmetadata.py) and the OpenLineage sink
(emulators/openlineage_sink.py); stdlib only, so either server imports it without its heavy imports.

Rules (one model per server process, set with `POST /__admin/latency` or `--latency JSON` at start-up):
- A request's delay = `fixed_ms` + `per_kind_ms[kind]` + a jitter drawn uniformly from [0, `jitter_ms`]
  (never negative: a delay is a floor, jitter only adds). The draw is from a `random.Random(seed)` owned by
  the model, so a seeded run draws the same sequence of jitters.
- Kinds: `read` (GET, HEAD), `status_put` (PUT of a pipeline status, `.../status`), `lineage_put` (PUT or
  PATCH of lineage, `/v1/lineage...`; every OpenLineage event POST in the sink), `write` (any other PUT, POST,
  PATCH, DELETE). Admin routes (`/__admin/`) are never delayed.
- The delay is served after the request was handled and before the answer goes out (the server did the work,
  then the client waits): state is already written when the client sees the delay, as with a real server that
  commits and then indexes.
- `drip_bytes_per_s` > 0: the answer's body is sent in chunks at that rate (slow-drip: headers come at once,
  the body trickles; a client's read timeout counts from each chunk, so only a total deadline stops it).
- An empty body `{}` (or `reset`) switches the model off: no delay, no drip.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

KINDS = ("read", "status_put", "lineage_put", "write")
_STATUS = re.compile(r"/status/?$")
_LINEAGE = re.compile(r"/v1/lineage(/|$)")
_KEYS = {"fixed_ms", "per_kind_ms", "jitter_ms", "drip_bytes_per_s", "seed"}


def kind_of(method: str, path: str, *, lineage_sink: bool = False) -> str:
    method = method.upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return "read"
    if lineage_sink or _LINEAGE.search(path):
        return "lineage_put"
    if method == "PUT" and _STATUS.search(path):
        return "status_put"
    return "write"


@dataclass
class LatencyModel:
    fixed_ms: float = 0.0
    per_kind_ms: dict[str, float] = field(default_factory=dict)
    jitter_ms: float = 0.0
    drip_bytes_per_s: float = 0.0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any] | None) -> LatencyModel:
        """Build from the admin body; raises ValueError (answered as a 400) on unknown keys or kinds."""
        body = body or {}
        unknown = set(body) - _KEYS
        if unknown:
            raise ValueError(f"latency: unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})")
        per_kind = {str(k): float(v) for k, v in (body.get("per_kind_ms") or {}).items()}
        bad = set(per_kind) - set(KINDS)
        if bad:
            raise ValueError(f"latency: unknown kinds {sorted(bad)} (known: {list(KINDS)})")
        values = [float(body.get(k) or 0) for k in ("fixed_ms", "jitter_ms", "drip_bytes_per_s")]
        if any(v < 0 for v in [*values, *per_kind.values()]):
            raise ValueError("latency: delays and rates must be >= 0")
        seed = body.get("seed")
        model = cls(values[0], per_kind, values[1], values[2], None if seed is None else int(seed))
        model._rng = random.Random(model.seed)
        return model

    def describe(self) -> dict[str, Any]:
        return {
            "fixed_ms": self.fixed_ms,
            "per_kind_ms": dict(self.per_kind_ms),
            "jitter_ms": self.jitter_ms,
            "drip_bytes_per_s": self.drip_bytes_per_s,
            "seed": self.seed,
        }

    @property
    def active(self) -> bool:
        return bool(
            self.fixed_ms or any(self.per_kind_ms.values()) or self.jitter_ms or self.drip_bytes_per_s
        )

    def delay_s(self, kind: str) -> float:
        jitter = 0.0
        if self.jitter_ms:
            with self._lock:
                jitter = self._rng.uniform(0.0, self.jitter_ms)
        return (self.fixed_ms + self.per_kind_ms.get(kind, 0.0) + jitter) / 1000.0

    def wait(self, kind: str) -> float:
        """Sleep this request's delay; returns the milliseconds slept (for the request log)."""
        delay = self.delay_s(kind)
        if delay > 0:
            time.sleep(delay)
        return round(delay * 1000, 1)

    def drip(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The body, re-chunked to ~20 pieces a second at `drip_bytes_per_s`."""
        rate = self.drip_bytes_per_s
        piece = max(1, int(rate / 20))
        for chunk in chunks:
            for start in range(0, len(chunk), piece):
                part = chunk[start : start + piece]
                time.sleep(len(part) / rate)
                yield part
