"""Issue 11 item 2: string fields holding bytes that are not UTF-8.

For a proto2 ``string`` field with invalid UTF-8 the protobuf runtime hands
back ``bytes``. Every string that comes off the wire must still reach the
user as ``str`` (undecodable bytes become U+FFFD), and nothing but the
library's own errors may come out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import asyncquote
from asyncquote import SecurityStaticInfo
from asyncquote._client.entry_cache import EntryCache
from asyncquote._client.ratelimit import is_quota_rejection
from asyncquote._client.watch import WatchError, WatchlistChange, WatchlistWatcher
from asyncquote._models.dataframes import to_dataframe, to_rows
from asyncquote._opend.codec import parse_response

from ..conftest import Runner
from ..hostile_peer import (
    HostileConnection,
    HostileGateway,
    RawFrame,
    Stock,
    full_entry,
    hostile_gateway,
    pb_message,
    response_body,
    stock_entry,
)

pytestmark = pytest.mark.anyio

GUS, GROUPS = 3213, 3222
NO_QUOTAS: dict[int, asyncquote.Quota | None] = {3213: None, 3222: None, 3214: None}


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@asynccontextmanager
async def client_of(gateway: HostileGateway) -> AsyncIterator[asyncquote.QuoteClient]:
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, keepalive=False, quotas=NO_QUOTAS) as client,
    ):
        yield client


def replying(*bodies: bytes) -> HostileGateway:
    """A gateway answering 3213/3222 with ``bodies`` in turn (the last one for ever)."""
    queue = list(bodies)

    async def on_request(connection: HostileConnection, frame: RawFrame) -> bool:
        if frame.proto_id not in (GUS, GROUPS):
            return False
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        await connection.send(frame.proto_id, frame.serial, body)
        return True

    return HostileGateway(on_request=on_request)


def all_strings(value: object) -> list[object]:
    """Every field value of a model tree, recursively (to check none is bytes)."""
    if isinstance(value, BaseModel):
        found: list[object] = []
        for name in type(value).model_fields:
            found.extend(all_strings(getattr(value, name)))
        return found
    return [value]


def assert_no_bytes(items: list[SecurityStaticInfo]) -> None:
    for item in items:
        for leaf in all_strings(item):
            assert not isinstance(leaf, bytes), (leaf, item)
        assert "b'" not in str(item.security)
    for row in to_rows(items):
        for cell in row.values():
            assert not isinstance(cell, bytes)
            if isinstance(cell, str):
                assert "b'" not in cell
                assert 'b"' not in cell


async def test_non_utf8_text_in_the_handshake_reply_reaches_client_info_as_str() -> None:
    async def on_request(connection: HostileConnection, frame: RawFrame) -> bool:
        if frame.proto_id != 1001:
            return False
        s2c = pb_message((1, 1003), (2, 42), (3, 7), (4, b"\xff" * 16), (5, 10), (6, b"\xfe"))
        await connection.send(frame.proto_id, frame.serial, response_body(s2c))
        return True

    async with client_of(HostileGateway(on_request=on_request)) as client:
        info = client.info
        assert isinstance(info.conn_aes_key, str)
        assert isinstance(info.aes_cbc_iv, str)
        assert info.conn_aes_key == "\ufffd" * 16


async def test_a_non_utf8_ret_msg_is_an_opend_error_with_a_str_message() -> None:
    async with client_of(replying(response_body(ret_type=-1, ret_msg=b"\xff\xfe bad"))) as client:
        with pytest.raises(asyncquote.OpenDError) as caught:
            await client.get_user_security("Tech")
    assert isinstance(caught.value.message, str)
    assert caught.value.message == "\ufffd\ufffd bad"


async def test_a_non_utf8_quota_rejection_is_still_recognised() -> None:
    assert is_quota_rejection(-1, b"\xff too frequent")  # type: ignore[arg-type]
    assert not is_quota_rejection(-1, b"\xff\xfe")  # type: ignore[arg-type]


async def test_non_utf8_codes_and_names_reach_the_user_as_str() -> None:
    bad = Stock(1, b"\xff00700", name=b"Ten\xe2cent", list_time=b"\xc3")
    entries = [
        (1, stock_entry(bad)),
        (
            1,
            full_entry(
                Stock(1, "12345", name="a warrant", id=2),
                warrant_owner=(1, b"\x80"),
            ),
        ),
        (
            1,
            full_entry(
                Stock(1, "67890", id=3),
                option=((11, b"AA\xffPL"), b"2026-\xff", b"\xffUS"),
            ),
        ),
        (1, full_entry(Stock(2, "HSImain", id=4), future_last_trade_time=b"\xfe")),
    ]
    body = response_body(pb_message(*entries))
    async with client_of(replying(body)) as client:
        items = await client.get_user_security("Tech")
    assert len(items) == 4
    assert items[0].security.code == "\ufffd00700"
    assert str(items[0].security) == "HK.\ufffd00700"
    assert items[0].basic.name == "Ten\ufffdcent"
    assert_no_bytes(items)
    pd = pytest.importorskip("pandas")
    frame = to_dataframe(items)
    assert isinstance(frame, pd.DataFrame)
    assert frame["code"][0] == "HK.\ufffd00700"


async def test_a_non_utf8_group_name_in_a_group_list_is_a_str() -> None:
    groups = pb_message(
        (1, pb_message((1, b"\xffTech"), (2, 1))), (1, pb_message((1, "HK"), (2, 2)))
    )
    async with client_of(replying(response_body(groups))) as client:
        listed = await client.get_user_security_group()
    assert [g.name for g in listed] == ["\ufffdTech", "HK"]


async def test_a_watcher_yields_a_watch_error_for_a_non_utf8_refusal_and_goes_on() -> None:
    good = response_body(pb_message((1, stock_entry(Stock(1, "00700")))))
    bad = response_body(ret_type=-1, ret_msg=b"\xff")
    async with (
        client_of(replying(bad, good)) as client,
        client.watch_user_security(["Tech"], interval=0.01) as events,
    ):
        first = await events.__anext__()
        second = await events.__anext__()
    assert isinstance(first, WatchError)
    assert isinstance(first.error, asyncquote.OpenDError)
    assert isinstance(second, WatchlistChange)
    assert [str(item.security) for item in second.current] == ["HK.00700"]


async def test_a_watcher_turns_any_failed_poll_into_a_watch_error() -> None:
    calls = 0

    async def fetch(group: str) -> list[SecurityStaticInfo]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise TypeError("a bug somewhere below")
        return []

    watcher = WatchlistWatcher(["Tech"], 0.01, fetch, is_closed=lambda: False)
    async with anyio.create_task_group() as tg, watcher:
        tg.start_soon(watcher.run)
        first = await watcher.__anext__()
        second = await watcher.__anext__()
        tg.cancel_scope.cancel()
    assert isinstance(first, WatchError)
    assert isinstance(first.error, asyncquote.AsyncQuoteError)
    assert isinstance(first.error.__cause__, TypeError)
    assert isinstance(second, WatchlistChange)


# -- generated replies --------------------------------------------------------


def _no_bytes_repr_marker(raw: bytes | str) -> bool:
    # assert_no_bytes() recognises str(bytes) by the text "b'" or 'b"' in a
    # value; an input holding that text itself would be a false alarm.
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return "b'" not in text and 'b"' not in text


wire_text = st.one_of(st.binary(max_size=12), st.text(max_size=6)).filter(_no_bytes_repr_marker)
markets = st.sampled_from([0, 1, 2, 11, 21, 999])


@st.composite
def entries(draw: st.DrawFn) -> bytes:
    stock = Stock(
        draw(markets),
        draw(wire_text),
        name=draw(wire_text),
        id=draw(st.integers(0, 2**40)),
        list_time=draw(wire_text),
    )
    kind = draw(st.sampled_from(["plain", "warrant", "option", "future"]))
    if kind == "warrant":
        return full_entry(stock, warrant_owner=(draw(markets), draw(wire_text)))
    if kind == "option":
        owner = (draw(markets), draw(wire_text))
        return full_entry(stock, option=(owner, draw(wire_text), draw(wire_text)))
    if kind == "future":
        return full_entry(stock, future_last_trade_time=draw(wire_text))
    return full_entry(stock)


@st.composite
def security_replies(draw: st.DrawFn) -> bytes:
    ret_type = draw(st.sampled_from([0, 0, -1, -100]))
    if ret_type:
        return response_body(ret_type=ret_type, ret_msg=draw(st.one_of(st.none(), wire_text)))
    items = draw(st.lists(entries(), max_size=4))
    return response_body(pb_message(*[(1, item) for item in items]))


@st.composite
def group_replies(draw: st.DrawFn) -> bytes:
    ret_type = draw(st.sampled_from([0, 0, -1]))
    if ret_type:
        return response_body(ret_type=ret_type, ret_msg=draw(wire_text))
    names = draw(st.lists(wire_text, max_size=4))
    kinds = draw(st.lists(st.integers(0, 9), min_size=len(names), max_size=len(names)))
    groups = [(1, pb_message((1, n), (2, k))) for n, k in zip(names, kinds, strict=True)]
    return response_body(pb_message(*groups))


def check_decoded(items: list[SecurityStaticInfo]) -> None:
    assert_no_bytes(items)
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    frame = to_dataframe(items)
    for column in ("code", "name", "stock_owner", "strike_time", "listing_date"):
        assert not any(isinstance(cell, bytes) for cell in frame[column])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=security_replies())
def test_any_bytes_in_any_string_field_decode_to_str_or_a_library_error(body: bytes) -> None:
    cache = EntryCache()
    for _ in range(2):  # cold, then through the entry cache
        refusal: asyncquote.OpenDError | None = None
        try:
            items = cache.decode_reply(body)
        except asyncquote.OpenDError as exc:
            refusal = exc
        except asyncquote.ProtocolError:
            return
        if refusal is not None:
            assert isinstance(refusal.message, str)
            assert isinstance(str(refusal), str)
            assert isinstance(is_quota_rejection(refusal.ret_type, refusal.message), bool)
            return
        check_decoded(items)
    from asyncquote._pb import Qot_GetUserSecurity_pb2

    parse_response(Qot_GetUserSecurity_pb2.Response, body, proto_id=GUS)


# plain_runner is the same for every example: it only says how to start the loop.
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    replies=st.lists(st.one_of(security_replies(), group_replies()), min_size=1, max_size=4),
)
def test_generated_hostile_replies_give_str_values_or_library_errors_end_to_end(
    plain_runner: Runner, replies: list[bytes]
) -> None:
    async def main() -> None:
        messages: list[object] = []
        async with client_of(replying(*replies)) as client:
            for _ in replies:
                for call in ("gus", "groups"):
                    try:
                        if call == "gus":
                            check_decoded(await client.get_user_security("Tech"))
                        else:
                            for group in await client.get_user_security_group():
                                assert isinstance(group.name, str)
                    except asyncquote.OpenDError as exc:
                        messages.append(exc.message)
                    except asyncquote.ProtocolError:
                        pass
            assert all(isinstance(message, str) for message in messages)
            # A watcher over the same replies yields an event rather than dying.
            async with client.watch_user_security(["Tech"], interval=0.001) as events:
                event = await events.__anext__()
                assert isinstance(event, WatchError | WatchlistChange)

    async def bounded() -> None:
        with anyio.fail_after(30):
            await main()

    plain_runner.run(bounded)
