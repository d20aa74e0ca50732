"""The official SDK's side of the cold-path benchmark; run as a script, never imported.

The SDK cannot share a process with asyncquote (their protobuf modules
clash), so the cold benchmark keeps this process running and hands it one
block of calls at a time, interleaved with asyncquote's own blocks. Each
line on standard input is ``GROUP COUNT OUT.json [read]``: it makes COUNT
sequential ``get_user_security(GROUP)`` calls, writes each call's seconds to
OUT.json, and then prints ``@@done`` (its own lines start with ``@@``; the
SDK logs to the console too). With ``read``, each call's time includes
reading every cell of the DataFrame it returned, as an application reading
every entry's fields does (:mod:`benchmarks.issue25`)::

    python -m benchmarks.cold_sdk HOST PORT
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

RET_OK = 0  # the SDK's success code
DONE = "@@done"


def main(argv: list[str]) -> int:
    host, port = argv
    # Imported here so that a missing SDK fails this process, not the benchmark's.
    from futu import OpenQuoteContext, SysConfig  # type: ignore[import-untyped]

    # The SDK's threads would otherwise keep this process alive if close() hangs.
    SysConfig.set_all_thread_daemon(True)
    context = OpenQuoteContext(host=host, port=int(port))
    try:
        print(DONE, flush=True)  # connected
        for line in sys.stdin:
            group, count, out, *mode = line.split()
            read = mode == ["read"]
            seconds = []
            for _ in range(int(count)):
                start = time.perf_counter()
                ret, data = context.get_user_security(group)
                if read and ret == RET_OK:
                    for row in data.itertuples(index=False):
                        for _cell in row:
                            pass
                seconds.append(time.perf_counter() - start)
                if ret != RET_OK:
                    raise RuntimeError(f"the SDK's call failed: {data}")
            Path(out).write_text(json.dumps(seconds))
            print(DONE, flush=True)
    finally:
        context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
