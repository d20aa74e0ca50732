"""Where decoding a 500-security reply goes: reading fields, building models, the GC.

    python -m benchmarks.decode_breakdown

Prints the median µs per security of: parsing the reply; parsing plus only
reading every field the conversion reads; the full conversion to models; and
the full conversion with the cyclic GC paused (to show the GC's share). The
difference between the second and third rows is the cost of the pydantic
instances themselves. The last two rows are the client's real path: the
reply through an entry cache that has never seen it (the GC left on, as
the client leaves it), and through one that has seen its entries (raw entries
looked up by bytes).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

from asyncquote._client.entry_cache import EntryCache
from asyncquote._models.convert import static_infos_from_pb
from asyncquote._pb import Qot_Common_pb2, Qot_GetUserSecurity_pb2

from .suite import _large_reply_body
from .watchlist import LARGE_GROUP_SIZE


def _read_fields(entries: Iterable[Qot_Common_pb2.SecurityStaticInfo]) -> None:
    for pb in entries:
        basic = pb.basic
        security = basic.security
        _ = (security.market, security.code, basic.id, basic.lotSize, basic.secType)
        _ = (basic.name, basic.listTime)
        basic.HasField("delisting")
        basic.HasField("listTimestamp")
        basic.HasField("exchType")
        pb.HasField("warrantExData")
        pb.HasField("optionExData")
        pb.HasField("futureExData")


def _median_us(body: bytes, step: Callable[[Any], object], repeats: int) -> float:
    parse = Qot_GetUserSecurity_pb2.Response.FromString
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(parse(body).s2c.staticInfoList)
        samples.append((time.perf_counter() - start) * 1e6 / LARGE_GROUP_SIZE)
    return statistics.median(samples)


def main(repeats: int = 200) -> None:
    """Print the breakdown."""
    body = _large_reply_body()
    rows = [
        ("parse only", _median_us(body, lambda entries: None, repeats)),
        ("parse + read every field", _median_us(body, _read_fields, repeats)),
        ("parse + build models", _median_us(body, static_infos_from_pb, repeats)),
    ]
    gc.disable()
    try:
        rows.append(("... with the GC paused", _median_us(body, static_infos_from_pb, repeats)))
    finally:
        gc.enable()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        EntryCache().decode_reply(body)  # a cache that has never seen the reply
        samples.append((time.perf_counter() - start) * 1e6 / LARGE_GROUP_SIZE)
    rows.append(("every entry new (EntryCache)", statistics.median(samples)))
    cache = EntryCache()
    cache.decode_reply(body)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        cache.decode_reply(body)
        samples.append((time.perf_counter() - start) * 1e6 / LARGE_GROUP_SIZE)
    rows.append(("entries known (EntryCache)", statistics.median(samples)))
    for label, value in rows:
        print(f"{label:<28}{value:8.2f} µs/security")


if __name__ == "__main__":
    main()
