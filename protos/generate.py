"""Regenerate ``asyncquote/_pb`` from the ``.proto`` files beside this script.

Usage::

    python protos/generate.py           # rewrite asyncquote/_pb
    python protos/generate.py --check   # exit 1 if asyncquote/_pb is stale

protoc emits ``import Common_pb2``, which only works when the output folder is
on ``sys.path``. The generated modules live inside our package, so the imports
are rewritten to package-relative ones; nothing else is touched.

Needs ``grpcio-tools`` (pinned in the ``dev`` extra: a different protoc would
produce different bytes and trip the drift test).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
OUTPUT_DIR = PROTO_DIR.parent / "asyncquote" / "_pb"

INIT_TEXT = '''"""Protobuf modules generated from ``protos/`` by ``protos/generate.py``.

Do not edit: run ``python protos/generate.py`` instead.
"""
'''

_ABSOLUTE_IMPORT = re.compile(r"^import (\w+_pb2) as (\w+)$", re.MULTILINE)


def _make_relative(source: str) -> str:
    return _ABSOLUTE_IMPORT.sub(r"from . import \1 as \2", source)


def render() -> dict[str, str]:
    """Run protoc and return ``{file name: text}`` for the whole ``_pb`` package."""
    from grpc_tools import protoc  # imported late: only this script needs it

    protos = sorted(PROTO_DIR.glob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{PROTO_DIR}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            *(str(p) for p in protos),
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        files = {
            path.name: _make_relative(path.read_text(encoding="utf-8"))
            for path in sorted(Path(tmp).iterdir())
        }
    files["__init__.py"] = INIT_TEXT
    return files


def stale_files(files: dict[str, str]) -> list[str]:
    """Names whose committed text differs from ``files``, plus strays in the folder."""
    stale = [
        name
        for name, text in files.items()
        if not (OUTPUT_DIR / name).is_file()
        or (OUTPUT_DIR / name).read_text(encoding="utf-8") != text
    ]
    if OUTPUT_DIR.is_dir():
        stale += [
            p.name
            for p in OUTPUT_DIR.iterdir()
            if p.is_file() and p.suffix in {".py", ".pyi"} and p.name not in files
        ]
    return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift")
    args = parser.parse_args(argv)
    files = render()
    if args.check:
        stale = stale_files(files)
        for name in stale:
            print(f"stale: asyncquote/_pb/{name}", file=sys.stderr)
        return 1 if stale else 0
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    for name in stale_files(files):
        path = OUTPUT_DIR / name
        if name in files:
            path.write_text(files[name], encoding="utf-8")
        else:
            path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
