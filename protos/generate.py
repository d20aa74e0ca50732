"""Regenerate ``asyncquote/_pb`` from the ``.proto`` files beside this script.

Usage::

    python protos/generate.py           # rewrite asyncquote/_pb
    python protos/generate.py --check   # exit 1 if asyncquote/_pb is stale

Two mechanical rewrites of protoc's output, and nothing else:

* protoc emits ``import Common_pb2``, which only works when the output folder
  is on ``sys.path``; the modules live inside our package, so the imports
  become package-relative.
* protoc registers every file in protobuf's *default* descriptor pool. The
  official SDK registers its own ``Common.proto``, ``Qot_Common.proto``...
  there under the same names, and the pool refuses a second, different
  definition. Our modules use a private pool (``_pool.py``) instead, so
  asyncquote and the official SDK can be imported in one process.

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

POOL_TEXT = '''"""The descriptor pool of asyncquote's generated modules (see protos/generate.py)."""

from google.protobuf import descriptor_pool

POOL = descriptor_pool.DescriptorPool()
'''

INIT_TEXT = '''"""Protobuf modules generated from ``protos/`` by ``protos/generate.py``.

Do not edit: run ``python protos/generate.py`` instead.
"""
'''

_ABSOLUTE_IMPORT = re.compile(r"^import (\w+_pb2) as (\w+)$", re.MULTILINE)


_DEFAULT_POOL = "_descriptor_pool.Default()"
_SYM_DB_LINE = "_sym_db = _symbol_database.Default()\n"


def _rewrite(source: str) -> str:
    source = _ABSOLUTE_IMPORT.sub(r"from . import \1 as \2", source)
    if _DEFAULT_POOL in source:
        if _SYM_DB_LINE not in source:
            raise SystemExit("unexpected protoc output: cannot place the private pool import")
        source = source.replace(_DEFAULT_POOL, "_POOL")
        source = source.replace(_SYM_DB_LINE, "from ._pool import POOL as _POOL\n" + _SYM_DB_LINE)
    return source


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
            path.name: _rewrite(path.read_text(encoding="utf-8"))
            for path in sorted(Path(tmp).iterdir())
        }
    files["__init__.py"] = INIT_TEXT
    files["_pool.py"] = POOL_TEXT
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
