"""Codec: proto id tables, parsing with typed errors, and retType checks."""

from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError

from asyncquote._base.errors import AsyncQuoteError, OpenDError, ProtocolError
from asyncquote._opend.codec import (
    REQUEST_TYPES,
    RESPONSE_TYPES,
    ProtoId,
    check_response,
    parse_message,
    parse_response,
)
from asyncquote._pb import Qot_Common_pb2, Qot_GetUserSecurity_pb2

from ..golden import BY_NAME, VECTORS, Vector

Response = Qot_GetUserSecurity_pb2.Response


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_codec_tables_map_each_golden_proto_id_to_its_message_class(vector: Vector) -> None:
    table = REQUEST_TYPES if vector.direction == "client->gateway" else RESPONSE_TYPES
    assert table[vector.proto_id] is vector.message_class()
    assert vector.proto_id in set(ProtoId)


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_parse_message_reads_every_golden_body(vector: Vector) -> None:
    message = parse_message(vector.message_class(), vector.body, proto_id=vector.proto_id)
    assert message == vector.message()


def test_parse_message_raises_protocol_error_on_malformed_bytes() -> None:
    with pytest.raises(ProtocolError, match=r"Qot_GetUserSecurity\.Response") as info:
        parse_message(Response, b"\xff\xff\xff", proto_id=3213)
    assert isinstance(info.value.__cause__, DecodeError)
    assert "3213" in str(info.value)


def test_parse_message_raises_protocol_error_on_a_truncated_body() -> None:
    body = BY_NAME["get_user_security_response_derivatives"].body
    with pytest.raises(ProtocolError):
        parse_message(Response, body[:-3], proto_id=3213)


def test_parse_message_raises_protocol_error_when_a_required_field_is_missing() -> None:
    # retType is required in every Response; an empty body has none.
    with pytest.raises(ProtocolError, match="retType"):
        parse_message(Response, b"", proto_id=3213)


def test_parse_message_raises_protocol_error_when_a_nested_required_field_is_missing() -> None:
    response = Response(retType=0)
    basic = response.s2c.staticInfoList.add().basic
    basic.security.market = 1  # code, id, lotSize, ... left out
    body = response.SerializePartialToString()
    with pytest.raises(ProtocolError, match=r"staticInfoList\[0\]\.basic\.security\.code"):
        parse_message(Response, body, proto_id=3213)


def test_parse_message_accepts_absent_optional_fields() -> None:
    body = Response(retType=0).SerializeToString()
    message = parse_message(Response, body)
    assert not message.HasField("s2c")
    assert not message.HasField("retMsg")


def test_check_response_raises_opend_error_with_the_gateway_fields() -> None:
    vector = BY_NAME["get_user_security_response_error"]
    response = parse_message(Response, vector.body, proto_id=vector.proto_id)
    with pytest.raises(OpenDError) as info:
        check_response(vector.proto_id, response)
    error = info.value
    assert (error.ret_type, error.err_code, error.message, error.proto_id) == (
        -1,
        1,
        "Unknown group",
        3213,
    )
    assert isinstance(error, AsyncQuoteError)
    assert "Unknown group" in str(error)


def test_check_response_passes_a_successful_reply() -> None:
    vector = BY_NAME["get_user_security_response_seed_java"]
    check_response(vector.proto_id, parse_message(Response, vector.body))


def test_check_response_reports_a_missing_err_code_as_zero() -> None:
    with pytest.raises(OpenDError) as info:
        check_response(3213, Response(retType=-100))
    assert (info.value.ret_type, info.value.err_code, info.value.message) == (-100, 0, "")


def test_parse_message_is_not_fooled_by_a_valid_message_of_another_type() -> None:
    # A Security is well-formed wire data, but as a Request it has no c2s.
    body = Qot_Common_pb2.Security(market=0, code="x").SerializeToString()
    with pytest.raises(ProtocolError, match="c2s"):
        parse_message(Qot_GetUserSecurity_pb2.Request, body)


def test_parse_response_parses_a_success_and_raises_for_a_refusal_or_garbage() -> None:

    ok = Qot_GetUserSecurity_pb2.Response(retType=0).SerializeToString()
    assert parse_response(Qot_GetUserSecurity_pb2.Response, ok, proto_id=3213).retType == 0
    refused = Qot_GetUserSecurity_pb2.Response(retType=-1, errCode=2, retMsg="no")
    with pytest.raises(OpenDError, match="no") as info:
        parse_response(Qot_GetUserSecurity_pb2.Response, refused.SerializeToString(), proto_id=3213)
    assert (info.value.ret_type, info.value.err_code, info.value.proto_id) == (-1, 2, 3213)
    with pytest.raises(ProtocolError):
        parse_response(Qot_GetUserSecurity_pb2.Response, b"\xff\xff", proto_id=3213)
