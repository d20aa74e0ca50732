"""Our ``.proto`` files against the official SDK's, field by field, and our
quote enums' member names against the SDK's names for the same values.

We write our own protocol files from the public facts; this holds them to
the reference: every message of ours that the SDK also defines has the same
fields under the same numbers, with the same wire types and labels, and the
quote protocols have every field the SDK knows. An enum field declared
``int32`` by us matches an enum field of the SDK's (the same varint on the
wire: we keep unknown values as numbers). The SDK's descriptors are read in
a process of their own (it cannot share one with asyncquote's).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor, FileDescriptor

from asyncquote._opend.quotes import (
    AssetClass,
    AuType,
    DarkStatus,
    IndexOptionType,
    KLType,
    OptionAreaType,
    OrderBookType,
    PriceType,
    PushDataType,
    SecurityStatus,
    SubType,
    TickerDirect,
    TickerType,
)
from asyncquote._pb import (
    Qot_Common_pb2,
    Qot_GetBasicQot_pb2,
    Qot_GetBroker_pb2,
    Qot_GetKL_pb2,
    Qot_GetOrderBook_pb2,
    Qot_GetRT_pb2,
    Qot_GetSecuritySnapshot_pb2,
    Qot_GetSubInfo_pb2,
    Qot_GetTicker_pb2,
    Qot_RegQotPush_pb2,
    Qot_Sub_pb2,
    Qot_UpdateBasicQot_pb2,
    Qot_UpdateBroker_pb2,
    Qot_UpdateKL_pb2,
    Qot_UpdateOrderBook_pb2,
    Qot_UpdateRT_pb2,
    Qot_UpdateTicker_pb2,
)

from .._support.pb_strategies import is_repeated, is_required

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(importlib.util.find_spec("futu") is None, reason="futu-api not installed"),
]

QUOTE_FILES = [
    Qot_Sub_pb2,
    Qot_RegQotPush_pb2,
    Qot_GetSubInfo_pb2,
    Qot_GetBasicQot_pb2,
    Qot_UpdateBasicQot_pb2,
    Qot_GetOrderBook_pb2,
    Qot_UpdateOrderBook_pb2,
    Qot_GetSecuritySnapshot_pb2,
    Qot_GetTicker_pb2,
    Qot_UpdateTicker_pb2,
    Qot_GetRT_pb2,
    Qot_UpdateRT_pb2,
    Qot_GetKL_pb2,
    Qot_UpdateKL_pb2,
    Qot_GetBroker_pb2,
    Qot_UpdateBroker_pb2,
]

# The live-quote part of Qot_Common: these must be complete, not a subset.
QUOTE_COMMON = {
    "Qot_Common.OptionBasicQotExData",
    "Qot_Common.PreAfterMarketData",
    "Qot_Common.FutureBasicQotExData",
    "Qot_Common.WarrantBasicQotExData",
    "Qot_Common.BasicQot",
    "Qot_Common.OrderBookDetail",
    "Qot_Common.OrderBook",
    "Qot_Common.SubInfo",
    "Qot_Common.ConnSubInfo",
    "Qot_Common.Ticker",
    "Qot_Common.TimeShare",
    "Qot_Common.KLine",
    "Qot_Common.Broker",
}

SCRIPT = textwrap.dedent(
    """
    import importlib, json, sys
    from google.protobuf.descriptor import FieldDescriptor

    def label(f):
        # protobuf 7 has no FieldDescriptor.label: 1 optional, 2 required, 3 repeated.
        repeated = getattr(f, "is_repeated", None)
        required = getattr(f, "is_required", None)
        if repeated is None or required is None:
            return f.label
        return 3 if repeated else 2 if required else 1

    def fields(message):
        out = {}
        for f in message.fields:
            enum = f.type == FieldDescriptor.TYPE_ENUM
            kind = FieldDescriptor.TYPE_INT32 if enum else f.type
            target = f.message_type.full_name if f.message_type else None
            out[f.name] = [f.number, kind, label(f), target]
        return out

    messages, enums = {}, {}
    def walk(message):
        messages[message.full_name] = fields(message)
        for nested in message.nested_types:
            walk(nested)

    for name in sys.argv[1:]:
        module = importlib.import_module(f"futu.common.pb.{name}_pb2")
        for message in module.DESCRIPTOR.message_types_by_name.values():
            walk(message)
        for enum in module.DESCRIPTOR.enum_types_by_name.values():
            enums[enum.full_name] = {v.name: v.number for v in enum.values}
    print(json.dumps({"messages": messages, "enums": enums}))
    """
)


def _fields(message: Descriptor) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for field in message.fields:
        enum = field.type == FieldDescriptor.TYPE_ENUM
        kind = FieldDescriptor.TYPE_INT32 if enum else field.type
        target = field.message_type.full_name if field.message_type else None
        label = 3 if is_repeated(field) else 2 if is_required(field) else 1
        out[field.name] = [field.number, kind, label, target]
    return out


def _ours(files: list[FileDescriptor]) -> tuple[dict[str, Descriptor], dict[str, EnumDescriptor]]:
    messages: dict[str, Descriptor] = {}
    enums: dict[str, EnumDescriptor] = {}

    def walk(message: Descriptor) -> None:
        messages[message.full_name] = message
        for nested in message.nested_types:
            walk(nested)

    for file in files:
        for message in file.message_types_by_name.values():
            walk(message)
        enums.update({e.full_name: e for e in file.enum_types_by_name.values()})
    return messages, enums


@pytest.fixture(scope="module")
def sdk() -> dict[str, Any]:
    names = [module.DESCRIPTOR.package for module in [Qot_Common_pb2, *QUOTE_FILES]]
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, *names],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def test_every_message_of_ours_has_the_sdks_numbers_types_and_labels(sdk: dict[str, Any]) -> None:
    messages, _ = _ours([m.DESCRIPTOR for m in [Qot_Common_pb2, *QUOTE_FILES]])
    assert messages
    for name, message in messages.items():
        theirs = sdk["messages"][name]
        ours = _fields(message)
        assert {f: theirs.get(f) for f in ours} == ours, name


def test_the_quote_messages_are_complete(sdk: dict[str, Any]) -> None:
    messages, _ = _ours([m.DESCRIPTOR for m in QUOTE_FILES])
    complete = set(messages) | QUOTE_COMMON
    common, _ = _ours([Qot_Common_pb2.DESCRIPTOR])
    for name in sorted(complete):
        message = messages.get(name) or common[name]
        assert set(_fields(message)) == set(sdk["messages"][name]), name


def test_our_enums_number_their_values_as_the_sdk_does(sdk: dict[str, Any]) -> None:
    _, enums = _ours([Qot_Common_pb2.DESCRIPTOR])
    names = ["SubType", "RehabType", "OrderBookType", "DarkStatus", "SecurityStatus"]
    names += ["IndexOptionType", "OptionAreaType", "PriceType", "AssetClass"]
    names += ["KLType", "TickerDirection", "TickerType", "PushDataType"]
    for name in names:
        ours = {value.name: value.number for value in enums[f"Qot_Common.{name}"].values}
        assert ours == sdk["enums"][f"Qot_Common.{name}"], name


NAMES_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from futu.common import constant

    out = {}
    for name in sys.argv[1:]:
        cls = getattr(constant, name)
        out[name] = {n: cls.to_string2(n) for n in range(-1, 64)}
    print(json.dumps(out))
    """
)


def test_our_enum_members_carry_the_sdks_names() -> None:
    ours = [SubType, DarkStatus, SecurityStatus, OrderBookType]
    ours += [IndexOptionType, OptionAreaType, PriceType, AssetClass]
    ours += [KLType, AuType, TickerDirect, TickerType, PushDataType]
    completed = subprocess.run(
        [sys.executable, "-c", NAMES_SCRIPT, *(cls.__name__ for cls in ours)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    theirs = json.loads(completed.stdout.splitlines()[-1])
    for cls in ours:
        names = {int(n): name for n, name in theirs[cls.__name__].items()}
        assert {n: cls.sdk_name_of(n) for n in names} == names, cls.__name__
