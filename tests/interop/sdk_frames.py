"""Save the official SDK's ``get_user_security`` frames; run as a script, never imported.

The SDK cannot share a process with asyncquote (both register protobuf
descriptor files of the same names), so ``test_frames_match_sdk.py`` runs::

    python sdk_frames.py HOST PORT OUT_DIR GROUP [GROUP ...]

For the N-th group the frame goes to ``OUT_DIR/N.pkl`` exactly as the SDK
built it (a pickle keeps every dtype and every cell's Python type, where JSON
would blur int/float/bool and round floats). Groups the SDK reports as errors
are listed in ``OUT_DIR/errors.json`` as ``{group: message}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    host, port, out_dir, *group_names = argv
    out = Path(out_dir)
    # Imported only here, so a missing SDK fails this process and not the test's.
    from futu import RET_OK, OpenQuoteContext, SysConfig

    # Daemon threads let this process exit even if the SDK's close() stalls.
    SysConfig.set_all_thread_daemon(True)
    quote_context = OpenQuoteContext(host=host, port=int(port))
    errors: dict[str, str] = {}
    try:
        for number, group_name in enumerate(group_names):
            ret, frame = quote_context.get_user_security(group_name)
            if ret == RET_OK:
                frame.to_pickle(out / f"{number}.pkl")
            else:
                errors[group_name] = str(frame)
    finally:
        quote_context.close()
    (out / "errors.json").write_text(json.dumps(errors, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
