"""Notify (1003) bodies and GetGlobalState (1002) replies → typed events and state.

The bodies are written by the hostile peer's own protobuf encoder, so they
can hold what the protobuf runtime refuses to write (bytes that are not
UTF-8); ``tests/interop/test_notify_frames.py`` does the same with bodies
the official SDK's message classes wrote.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asyncquote
from asyncquote import (
    ApiQuotaChanged,
    GatewayEvent,
    GatewayEventType,
    GatewayStatus,
    LoginStatusChanged,
    MarketState,
    ProgramStatus,
    ProgramStatusChanged,
    ProgramStatusType,
    QuoteRight,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from asyncquote._client.throttle import WarningThrottle
from asyncquote._models.notify import event_from_notify, global_state_from_pb
from asyncquote._pb import GetGlobalState_pb2

from ..hostile_peer import (
    conn_status_notify,
    global_state_body,
    gtw_event_notify,
    notify_body,
    pb_message,
    program_status_notify,
    qot_right_notify,
    response_body,
)


def test_a_gateway_event() -> None:
    event = event_from_notify(gtw_event_notify(7, "logged in elsewhere"))
    expected = GatewayEvent(type=GatewayEventType.KICKED_OUT, description="logged in elsewhere")
    assert event == expected
    assert event.type is GatewayEventType.KICKED_OUT


@pytest.mark.parametrize("status", list(ProgramStatusType), ids=lambda s: s.name)
def test_every_program_status(status: ProgramStatusType) -> None:
    event = event_from_notify(program_status_notify(status, "detail"))
    assert event == ProgramStatusChanged(
        program_status=ProgramStatus(type=status, description="detail")
    )
    assert isinstance(event, ProgramStatusChanged)
    assert event.program_status.type is status
    assert event.program_status.ready is (status is ProgramStatusType.READY)


def test_a_program_status_without_its_description_has_none() -> None:
    event = event_from_notify(program_status_notify(4))
    assert isinstance(event, ProgramStatusChanged)
    assert event.program_status.description is None


def test_login_status() -> None:
    event = event_from_notify(conn_status_notify(quote=False, trade=True))
    assert event == LoginStatusChanged(quote_logged_in=False, trade_logged_in=True)


def test_quote_rights_required_and_optional() -> None:
    event = event_from_notify(qot_right_notify(2, 5, 4, (8, True), (9, 3), (27, 6)))
    assert isinstance(event, QuoteRightsChanged)
    rights = event.quote_rights
    assert (rights.hk, rights.us, rights.cn) == (QuoteRight.LEVEL1, QuoteRight.NO, QuoteRight.SF)
    assert rights.has_us_option is True
    assert rights.hk_future is QuoteRight.LEVEL2
    assert rights.ec is QuoteRight.LEVEL3
    assert rights.us_option is None  # absent stays None


def test_quotas() -> None:
    assert event_from_notify(notify_body(6, 7, pb_message((1, 100), (2, 200)))) == ApiQuotaChanged(
        subscription_quota=100, history_kline_quota=200
    )
    assert event_from_notify(notify_body(7, 8, pb_message((2, 30)))) == UsedQuotaChanged(
        used_subscription_quota=None, used_kline_quota=30
    )


def test_text_that_is_not_utf8_becomes_replacement_characters() -> None:
    event = event_from_notify(gtw_event_notify(11, b"code \xff\xfe please"))
    assert isinstance(event, GatewayEvent)
    assert event.description == "code \ufffd\ufffd please"
    status = event_from_notify(program_status_notify(4, b"\xc3("))
    assert isinstance(status, ProgramStatusChanged)
    assert status.program_status.description == "\ufffd("


def test_enum_values_this_version_does_not_know_stay_int() -> None:
    event = event_from_notify(gtw_event_notify(999, "new"))
    assert isinstance(event, GatewayEvent)
    assert event.type == 999
    assert not isinstance(event.type, GatewayEventType)
    status = event_from_notify(program_status_notify(77))
    assert isinstance(status, ProgramStatusChanged)
    assert status.program_status.type == 77
    assert "unknown to asyncquote (program status 77)" in status.program_status.summary
    rights = event_from_notify(qot_right_notify(42, 2, 2))
    assert isinstance(rights, QuoteRightsChanged)
    assert rights.quote_rights.hk == 42


@pytest.mark.parametrize(
    "body",
    [
        notify_body(5, 6, pb_message((3, "level"))),  # APILevel: deprecated, not an event
        notify_body(0),  # None
        notify_body(99, 30, b"whatever"),  # a type from a newer OpenD
    ],
    ids=["api-level", "none", "unknown-type"],
)
def test_pushes_that_are_not_events(body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "asyncquote.notify")
    assert event_from_notify(body) is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xff\xff",  # not protobuf
        b"",  # no retType (required)
        response_body(ret_type=-1, ret_msg="no"),  # a failure, not a push
        response_body(),  # no s2c
        response_body(pb_message((2, pb_message((1, 7), (2, "x"))))),  # no type (required)
        notify_body(2),  # ProgramStatus without its part
        notify_body(1, 2, pb_message((1, 7))),  # GtwEvent without desc (required)
        notify_body(2, 3, pb_message((1, pb_message((2, "x"))))),  # status without type
    ],
    ids=[
        "garbage",
        "empty",
        "failed",
        "no-s2c",
        "no-type",
        "no-part",
        "part-incomplete",
        "status-incomplete",
    ],
)
def test_a_malformed_push_is_dropped_with_a_warning_never_raised(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "asyncquote.notify")
    assert event_from_notify(body) is None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_global_state() -> None:
    response = GetGlobalState_pb2.Response.FromString(
        global_state_body(quote_logged_in=False, program_status=4, desc=b"sms \xff")
    )
    state = global_state_from_pb(response.s2c)
    assert state.market_hk is MarketState.AFTERNOON
    assert state.market_us is MarketState.CLOSED
    assert state.market_hk_future is MarketState.FUTURE_DAY_OPEN
    assert state.market_us_future is None  # optional, absent
    assert state.quote_logged_in is False
    assert state.trade_logged_in is True
    assert (state.server_version, state.server_build_no) == (904, 4708)
    assert state.server_time == 1_700_000_000
    assert state.local_time is None
    assert state.conn_id is None
    assert state.program_status == ProgramStatus(
        type=ProgramStatusType.NEED_PHONE_VERIFY_CODE, description="sms \ufffd"
    )


def test_an_unknown_market_state_stays_int() -> None:
    s2c = GetGlobalState_pb2.Response.FromString(global_state_body()).s2c
    s2c.marketUS = 250
    assert global_state_from_pb(s2c).market_us == 250


@pytest.mark.parametrize(
    ("status", "ready", "trouble", "words"),
    [
        (GatewayStatus(), False, False, "not known"),
        (
            GatewayStatus(
                quote_logged_in=True, program_status=ProgramStatus(type=ProgramStatusType.READY)
            ),
            True,
            False,
            "OpenD is ready",
        ),
        (
            GatewayStatus(
                quote_logged_in=False,
                program_status=ProgramStatus(type=ProgramStatusType.NEED_PHONE_VERIFY_CODE),
            ),
            False,
            True,
            "OpenD needs a phone verification code",
        ),
        (GatewayStatus(quote_logged_in=False), False, True, "not logged in to the quote server"),
        # An OpenD that leaves programStatus out: logged in to quotes is all it says.
        (GatewayStatus(quote_logged_in=True), True, False, "logged in to the quote server"),
        (
            GatewayStatus(program_status=ProgramStatus(type=ProgramStatusType.READY)),
            False,
            False,
            "OpenD is ready",
        ),
    ],
)
def test_gateway_status_readiness_and_words(
    status: GatewayStatus, ready: bool, trouble: bool, words: str
) -> None:
    assert status.ready is ready
    assert status.reports_trouble is trouble
    assert words in status.summary


def test_every_program_status_has_words() -> None:
    summaries = {ProgramStatus(type=status).summary for status in ProgramStatusType}
    assert len(summaries) == len(ProgramStatusType)


def test_a_gateway_not_ready_error_round_trips_through_pickle() -> None:
    import pickle

    status = GatewayStatus(quote_logged_in=False)
    error = asyncquote.GatewayNotReadyError(status)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.status == status
    assert str(copy) == str(error)
    assert "not logged in to the quote server" in str(error)


def test_a_program_status_from_a_newer_opend_does_not_fail_the_global_state() -> None:
    # Common.ProgramStatus.type was a proto2 enum: a value it lacked went to
    # the unknown fields, and the required field was then missing.
    response = GetGlobalState_pb2.Response.FromString(global_state_body(program_status=77))
    assert response.IsInitialized()
    status = global_state_from_pb(response.s2c).program_status
    assert status is not None
    assert status.type == 77
    assert not status.ready


# -- anything at all: the decoder only ever returns an event or None

_field_values = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.booleans(),
    st.binary(max_size=12),
    st.text(max_size=6),
)


@st.composite
def _messages(draw: st.DrawFn, depth: int = 2) -> bytes:
    """A protobuf message of random fields 1-30: varints, text, bytes, nested messages."""
    values = _field_values if depth == 0 else st.one_of(_field_values, _messages(depth - 1))
    fields = draw(st.lists(st.tuples(st.integers(1, 30), values), max_size=6))
    return pb_message(*fields)


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.builds(notify_body, st.integers(-5, 12), st.integers(1, 10), _messages()),
    )
)
def test_any_notify_body_gives_an_event_or_none_and_never_raises(body: bytes) -> None:
    event = event_from_notify(body)
    assert event is None or isinstance(event, asyncquote.Event)


@settings(max_examples=200, deadline=None)
@given(s2c=_messages())
def test_any_global_state_reply_gives_a_global_state_or_a_protocol_error(s2c: bytes) -> None:
    from asyncquote._opend.codec import parse_response

    try:
        response = parse_response(GetGlobalState_pb2.Response, response_body(s2c), proto_id=1002)
    except asyncquote.ProtocolError:
        return
    try:
        state = global_state_from_pb(response.s2c)
    except asyncquote.ProtocolError:
        return
    assert isinstance(state, asyncquote.GlobalState)


def test_the_warning_throttle_logs_each_kind_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "asyncquote.notify")
    now = [100.0]
    throttle = WarningThrottle(
        logging.getLogger("asyncquote.notify"), clock=lambda: now[0], interval=60
    )
    for _ in range(1_000):
        assert event_from_notify(b"\xff\xff\xff", throttle) is None
        assert event_from_notify(notify_body(2), throttle) is None
    assert len(caplog.records) == 2  # one per kind
    now[0] = 159.9
    event_from_notify(b"\xff\xff\xff", throttle)
    assert len(caplog.records) == 2  # still within the minute
    now[0] = 160.0
    event_from_notify(b"\xff\xff\xff", throttle)
    event_from_notify(b"\xff\xff\xff", throttle)
    assert len(caplog.records) == 3
    assert "and 1000 more like it in the last 60 s, not logged" in caplog.records[-1].getMessage()
    now[0] = 1_000.0
    event_from_notify(b"\xff\xff\xff", throttle)
    assert len(caplog.records) == 4
    assert "and 1 more like it" in caplog.records[-1].getMessage()  # the second at 160
