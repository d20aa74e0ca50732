"""Query a running simulator with the official SDK; run as a script, never imported.

The SDK's generated protobuf modules register the same descriptor file names
("Common.proto", ...) as asyncquote's, so the two cannot share a process. The
interop test therefore runs this file with ``sys.executable``::

    python sdk_client.py [--rsa-key FILE] HOST PORT OUT.json GROUP [GROUP ...]

It writes ``{"global_state": [ret, data], "groups": {name: {...}}}`` to
OUT.json, where each group has ``ret`` and either ``columns`` + ``rows`` (the
DataFrame) or ``error`` (the SDK's message). Output goes to a file because the
SDK logs to the console.

With ``--rsa-key`` the SDK encrypts the connection with the RSA private key
in FILE (``SysConfig.enable_proto_encrypt`` and ``set_init_rsa_file``). With
a key the gateway does not share it never gets past its handshake and
retries forever, so the caller must bound this script in time.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main(argv: list[str]) -> int:
    key_file = None
    if argv[0] == "--rsa-key":
        key_file, argv = argv[1], argv[2:]
    host, port, out_path, *group_names = argv
    # Imported here so that a missing SDK fails this process, not the test's.
    from futu import RET_OK, OpenQuoteContext, SysConfig

    if key_file is not None:
        SysConfig.enable_proto_encrypt(True)
        SysConfig.set_init_rsa_file(key_file)

    # The SDK's threads would otherwise keep this process alive if close() hangs.
    SysConfig.set_all_thread_daemon(True)
    context = OpenQuoteContext(host=host, port=int(port))
    result: dict[str, Any] = {"groups": {}}
    try:
        ret, state = context.get_global_state()
        result["global_state"] = [ret, state if ret == RET_OK else str(state)]
        for name in group_names:
            ret, data = context.get_user_security(name)
            if ret == RET_OK:
                result["groups"][name] = {
                    "ret": ret,
                    "columns": list(data.columns),
                    "rows": json.loads(data.to_json(orient="records", force_ascii=False)),
                }
            else:
                result["groups"][name] = {"ret": ret, "error": str(data)}
    finally:
        context.close()
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
