"""The official SDK's side of the benchmark; run as a script, never imported by the suite.

The SDK's generated protobuf modules register the same descriptor file names
as asyncquote's, so the two cannot share a process: the suite runs this file
with ``sys.executable`` and reads back one JSON object::

    python -m benchmarks.sdk_worker HOST PORT OUT.json SPEC.json

SPEC.json says how many calls each workload makes, which groups to ask for,
and where to find a serialised 500-security reply for the decode step. The
result is written to a file because the SDK logs to the console.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RET_OK = 0  # the SDK's success code


def _calls_per_second(calls: int, work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return calls / (time.perf_counter() - start)


def _decode_seconds(body: bytes, repeats: int) -> float | None:
    """Best time for the SDK's own decoding of one reply: protobuf, rows, DataFrame.

    This is what ``get_user_security`` does between receiving the bytes and
    returning. It calls SDK internals, so it reports ``None`` if they moved.
    """
    # pandas and the SDK ship no type information.
    import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]

    try:
        from futu.common.pb.Qot_GetUserSecurity_pb2 import (  # type: ignore[import-untyped]
            Response,
        )
        from futu.quote.quote_query import (  # type: ignore[import-untyped]
            GetUserSecurityQuery,
        )
    except ImportError:
        return None

    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        response = Response()
        response.ParseFromString(body)
        ret, _message, rows = GetUserSecurityQuery.unpack(response)
        if ret != RET_OK:
            raise RuntimeError("the SDK could not decode the reply")
        pd.DataFrame(rows)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> int:
    host, port, out_path, spec_path = argv
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    # Imported here so that a missing SDK fails this process, not the suite's.
    from futu import OpenQuoteContext, SysConfig  # type: ignore[import-untyped]

    # The SDK's threads would otherwise keep this process alive if close() hangs.
    SysConfig.set_all_thread_daemon(True)
    context = OpenQuoteContext(host=host, port=int(port))
    result: dict[str, Any] = {}
    try:

        def call(group: str) -> None:
            ret, data = context.get_user_security(group)
            if ret != RET_OK:
                raise RuntimeError(f"the SDK's call failed: {data}")

        small: list[str] = spec["small_groups"]
        for _ in range(spec["warmup"]):
            call(small[0])

        def sequential() -> None:
            for _ in range(spec["sequential"]):
                call(small[0])

        result["sequential"] = _calls_per_second(spec["sequential"], sequential)

        threads, per_thread = spec["threads"], spec["calls_per_thread"]
        errors: list[BaseException] = []

        def worker(group: str) -> None:
            try:
                for _ in range(per_thread):
                    call(group)
            except BaseException as exc:  # reported below, not lost in a thread
                errors.append(exc)

        def threaded() -> None:
            pool = [threading.Thread(target=worker, args=(small[i],)) for i in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()

        result["threads"] = _calls_per_second(threads * per_thread, threaded)
        if errors:
            raise errors[0]

        def large() -> None:
            for _ in range(spec["large"]):
                call(spec["large_group"])

        result["large"] = _calls_per_second(spec["large"], large)
        body = Path(spec["large_body"]).read_bytes()
        result["decode_seconds"] = _decode_seconds(body, spec["decode_repeats"])
    finally:
        context.close()
    Path(out_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
