"""The committed ``asyncquote/_pb`` matches ``protos/`` and the golden wire bytes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import json_format

from ..golden import VECTORS, Vector

GENERATE_PY = Path(__file__).resolve().parents[2] / "protos" / "generate.py"


def load_generator() -> ModuleType:
    """Import ``protos/generate.py`` from its path (it is a script, not a module)."""
    spec = importlib.util.spec_from_file_location("_asyncquote_protos_generate", GENERATE_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_modules_match_what_generate_py_would_produce() -> None:
    pytest.importorskip(
        "grpc_tools",
        reason="grpcio-tools (the dev extra) is needed to regenerate asyncquote/_pb",
    )
    generator = load_generator()
    stale = generator.stale_files(generator.render())
    assert stale == [], (
        f"asyncquote/_pb is out of date with protos/ ({', '.join(stale)}); "
        "run `python protos/generate.py`"
    )


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_golden_body_parses_and_reserialises_to_identical_bytes(vector: Vector) -> None:
    message = vector.message()
    assert message.IsInitialized()
    assert message.SerializeToString() == vector.body


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_golden_body_carries_the_message_its_json_describes(vector: Vector) -> None:
    # Field numbers and types agree with the independent implementation's:
    # building the message from its JSON gives the same bytes.
    from_json = json_format.ParseDict(vector.json, vector.message_class()())
    assert from_json.SerializeToString() == vector.body
    assert json_format.MessageToDict(vector.message()) == vector.json
