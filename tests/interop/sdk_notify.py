"""Read the gateway state and receive system notifications with the official SDK; a script.

The SDK cannot share a process with asyncquote (both register protobuf
descriptor files of the same names), so ``test_sdk_gateway.py`` runs::

    python sdk_notify.py HOST PORT OUT.json READY_FILE COUNT

It connects, installs a system-notification handler (the SDK's
``SysNotifyHandlerBase``), reads ``get_global_state()`` and one watchlist,
then creates READY_FILE so the test knows it may push. Once COUNT
notifications have arrived (or 30 s have passed) it reads both again and
writes ``{"before": ..., "notifications": [[ret, content], ...], "after": ...}``
to OUT.json, each read as ``{"global_state": [ret, data], "watchlist": [ret, text]}``.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

_WAIT = 30.0


def main(argv: list[str]) -> int:
    host, port, out_path, ready_file, count_text = argv
    count = int(count_text)
    # Imported here so that a missing SDK fails this process, not the test's.
    from futu import RET_OK, OpenQuoteContext, SysConfig, SysNotifyHandlerBase

    received: list[Any] = []
    enough = threading.Event()

    class Recorder(SysNotifyHandlerBase):  # type: ignore[misc]
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, content = super().on_recv_rsp(rsp_pb)
            received.append([ret, list(content) if isinstance(content, tuple) else content])
            if len(received) >= count:
                enough.set()
            return ret, content

    def read(context: Any) -> dict[str, Any]:
        ret, state = context.get_global_state()
        watch_ret, data = context.get_user_security("HK")
        return {
            "global_state": [ret, state if ret == RET_OK else str(state)],
            "watchlist": [watch_ret, len(data) if watch_ret == RET_OK else str(data)],
        }

    # The SDK's threads would otherwise keep this process alive if close() hangs.
    SysConfig.set_all_thread_daemon(True)
    context = OpenQuoteContext(host=host, port=int(port))
    try:
        context.set_handler(Recorder())
        result: dict[str, Any] = {"before": read(context)}
        Path(ready_file).touch()
        enough.wait(_WAIT)
        result["notifications"] = received
        result["after"] = read(context)
    finally:
        context.close()
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
