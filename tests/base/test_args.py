"""Issue 11 items 5 (duration arguments) and 10 (untyped errors from bad arguments and misuse).

A bad argument raises :class:`InvalidArgumentError` and nothing reaches the
gateway; misuse (another event loop) raises a library error saying what to do.
Checked at the peer: the hostile gateway records every request that arrives.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asyncquote
from asyncquote import (
    GroupType,
    Market,
    ModifyOp,
    Quota,
    ReconnectPolicy,
    Security,
    SystemGroup,
    to_dataframe,
    to_rows,
)
from asyncquote._pb import Qot_GetUserSecurity_pb2, Qot_ModifyUserSecurity_pb2

from ..conftest import Runner
from ..hostile_peer import HostileGateway, Stock, hostile_gateway

pytestmark = pytest.mark.anyio

NO_QUOTAS: dict[int, Quota | None] = {3213: None, 3222: None, 3214: None}
BAD_DURATIONS: list[Any] = [math.nan, -1, -0.5, -math.inf, "2", b"1", True, False, None, [1]]


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


@asynccontextmanager
async def gateway_and_client() -> AsyncIterator[tuple[HostileGateway, asyncquote.QuoteClient]]:
    gateway = HostileGateway(groups={"Tech": [Stock(11, "AAPL")]})
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, keepalive=False, quotas=NO_QUOTAS) as client,
    ):
        yield gw, client


def requests_after_handshake(gateway: HostileGateway) -> list[int]:
    return [proto for _, proto, _ in gateway.arrivals if proto not in (1001, 1004)]


@pytest.mark.parametrize("bad", [*BAD_DURATIONS[:-3], 0, [1]], ids=repr)
async def test_a_bad_per_call_timeout_is_refused_before_anything_is_sent(bad: Any) -> None:
    async with gateway_and_client() as (gateway, client):
        calls = [
            lambda: client.get_user_security("Tech", timeout=bad),
            lambda: client.get_user_security_group(GroupType.ALL, timeout=bad),
            lambda: client.modify_user_security("Tech", ModifyOp.ADD, ["US.NVDA"], timeout=bad),
        ]
        for call in calls:
            with pytest.raises(asyncquote.InvalidArgumentError, match="timeout"):
                await call()
        assert requests_after_handshake(gateway) == []


@pytest.mark.parametrize("bad", BAD_DURATIONS[:-2], ids=repr)
async def test_a_bad_max_age_is_refused(bad: Any) -> None:
    async with gateway_and_client() as (gateway, client):
        with pytest.raises(asyncquote.InvalidArgumentError, match="max_age"):
            await client.get_user_security("Tech", max_age=bad)
        assert requests_after_handshake(gateway) == []


async def test_math_inf_is_a_valid_timeout_and_max_age() -> None:
    async with gateway_and_client() as (_, client):
        first = await client.get_user_security("Tech", timeout=math.inf)
        assert await client.get_user_security("Tech", max_age=math.inf) == first


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("timeout", math.nan),
        ("timeout", True),
        ("timeout", 0),
        ("connect_timeout", math.nan),
        ("connect_timeout", "2"),
        ("connect_timeout", -1),
        ("queue_timeout", math.nan),
        ("queue_timeout", True),
        ("queue_timeout", -1),
        ("dead_peer_after", math.nan),
        ("dead_peer_after", True),
    ],
    ids=repr,
)
async def test_a_bad_connect_duration_is_refused_before_connecting(argument: str, bad: Any) -> None:
    async with hostile_gateway() as gateway:
        with pytest.raises(asyncquote.InvalidArgumentError, match=argument):
            async with asyncquote.connect("127.0.0.1", gateway.port, **{argument: bad}):
                pass  # pragma: no cover
        assert gateway.connections == []


async def test_awaiting_connect_says_to_use_async_with() -> None:
    async with hostile_gateway() as gateway:
        with pytest.raises(
            asyncquote.UsageError,
            match=re.escape("use `async with asyncquote.connect(...) as client`"),
        ):
            await asyncquote.connect("127.0.0.1", gateway.port)  # type: ignore[misc]
        assert gateway.connections == []


@pytest.mark.parametrize("host", ["a..b", "a" * 64 + ".example", "\u3002", "\u00e4" * 70, "."])
async def test_a_host_that_is_no_host_name_is_refused_before_connecting(host: str) -> None:
    # Empty or over-long labels: the name lookup itself would fail with a bare
    # UnicodeError from the IDNA codec (asyncio) or idna package (trio).
    with pytest.raises(asyncquote.InvalidArgumentError, match="host"):
        async with asyncquote.connect(host, 11111, connect_timeout=5, reconnect=False):
            pass  # pragma: no cover


def test_a_host_only_the_idna_package_refuses_is_refused_on_trio_too() -> None:
    # Python's IDNA codec (the options' check) takes a snowman; trio's
    # lookup, through the idna package, does not.
    async def main() -> None:
        with pytest.raises(asyncquote.InvalidArgumentError, match="not a valid host name"):
            async with asyncquote.connect("\u2603.net", 11111, connect_timeout=5, reconnect=False):
                pass  # pragma: no cover

    anyio.run(main, backend="trio")


@pytest.mark.parametrize(
    ("argument", "bad"),
    [
        ("initial_delay", True),
        ("initial_delay", math.nan),
        ("initial_delay", "1"),
        ("max_delay", -1),
        ("max_delay", False),
        ("multiplier", True),
        ("jitter", math.nan),
        ("max_attempts", True),
    ],
    ids=repr,
)
def test_a_bad_reconnect_policy_is_refused(argument: str, bad: Any) -> None:
    with pytest.raises(asyncquote.InvalidArgumentError, match=argument):
        ReconnectPolicy(**{argument: bad})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Quota(0, 30.0), "max_calls must be at least 1, not 0"),
        (lambda: ReconnectPolicy(max_attempts=0), "max_attempts must be at least 1, not 0"),
    ],
    ids=["quota", "policy"],
)
def test_an_integer_out_of_range_says_the_range_in_words(
    make: Callable[[], object], message: str
) -> None:
    with pytest.raises(asyncquote.InvalidArgumentError) as caught:
        make()
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0}, "port must be from 1 to 65535, not 0"),
        ({"port": 65536}, "port must be from 1 to 65535, not 65536"),
        ({"quota_retries": -1}, "quota_retries must be at least 0, not -1"),
    ],
    ids=repr,
)
async def test_an_integer_connect_argument_out_of_range_says_the_range_in_words(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(asyncquote.InvalidArgumentError) as caught:
        async with asyncquote.connect(**{"port": 11111, **kwargs}):
            pass  # pragma: no cover
    assert str(caught.value) == message


async def test_a_bad_events_buffer_says_the_range_in_words() -> None:
    async with gateway_and_client() as (_, client):
        with pytest.raises(asyncquote.InvalidArgumentError) as caught:
            client.events(buffer=0)
        assert str(caught.value) == "buffer must be at least 1, not 0"


@pytest.mark.parametrize(("max_calls", "period"), [(True, 1.0), (1, True), (1, math.nan)])
def test_a_bad_quota_is_refused(max_calls: Any, period: Any) -> None:
    with pytest.raises(asyncquote.InvalidArgumentError):
        Quota(max_calls, period)


@pytest.mark.parametrize("bad", [True, math.nan, math.inf, 0, -1, "1"], ids=repr)
async def test_a_bad_watch_interval_is_refused(bad: Any) -> None:
    async with gateway_and_client() as (gateway, client):
        with pytest.raises(asyncquote.InvalidArgumentError, match="interval"):
            async with client.watch_user_security(["Tech"], interval=bad):
                pass  # pragma: no cover
        assert requests_after_handshake(gateway) == []


@pytest.mark.parametrize("name", ["\ud800", "Te\x00ch", "\x00", "Tech\udfff", "a\x07b"], ids=repr)
async def test_a_group_name_that_cannot_go_on_the_wire_is_refused(name: str) -> None:
    async with gateway_and_client() as (gateway, client):
        with pytest.raises(asyncquote.InvalidArgumentError, match="group_name"):
            await client.get_user_security(name)
        with pytest.raises(asyncquote.InvalidArgumentError, match="group_name"):
            await client.modify_user_security(name, ModifyOp.ADD, ["US.NVDA"])
        with pytest.raises(asyncquote.InvalidArgumentError, match="group_name"):
            async with client.watch_user_security([name]):
                pass  # pragma: no cover
        assert requests_after_handshake(gateway) == []


async def test_group_names_with_spaces_and_any_script_are_still_fine() -> None:
    async with gateway_and_client() as (_, client):
        for name in ("My Tech", "港股 自选", "科技\u3000股", "Émoji 🚀"):
            with pytest.raises(asyncquote.OpenDError, match="Unknown watchlists"):
                await client.get_user_security(name)


async def test_info_can_be_read_after_the_block_even_if_never_read_inside() -> None:
    async with gateway_and_client() as (_, client):
        pass
    assert client.info.server_version == 1003


async def test_a_client_used_from_another_event_loop_says_so() -> None:
    async with gateway_and_client() as (gateway, client):

        def from_another_loop(backend: str) -> BaseException | None:
            try:
                anyio.run(client.get_user_security, "Tech", backend=backend)
            except BaseException as exc:  # returned for the assertion below
                return exc
            return None

        for backend in ("asyncio", "trio"):
            error = await anyio.to_thread.run_sync(from_another_loop, backend)
            assert isinstance(error, asyncquote.UsageError), repr(error)
            assert "event loop" in str(error)
        assert requests_after_handshake(gateway) == []
        assert await client.get_user_security("Tech")  # still fine from its own loop


# -- arbitrary values at every public argument -----------------------------------

_SPECIAL: list[Any] = [
    math.inf,
    -math.inf,
    math.nan,
    0,
    -1,
    2**64,
    "",
    " ",
    "\ud800",
    "Te\x00ch",
    "Tech",
    "HK.00700",
    "hk.\ud800",
    b"Tech",
    Decimal("NaN"),
    Decimal("1.5"),
    Fraction(1, 3),
    1j,
    object(),
    print,
    type,
    GroupType.ALL,
    GroupType,
    ModifyOp.ADD,
    SystemGroup.HK,
    Security(market=Market.HK, code="00700"),
    Security(market=Market.HK, code="\ud800"),
    Quota(1, 1.0),
    ReconnectPolicy(),
    asyncquote.RateLimiter(),
]
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.sampled_from(_SPECIAL),
)
anything = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.one_of(st.integers(), st.text(max_size=3)), children, max_size=3),
    ),
    max_leaves=6,
)

Call = Callable[[asyncquote.QuoteClient, Any], Awaitable[object]]


async def _watch(client: asyncquote.QuoteClient, **kwargs: Any) -> None:
    async with client.watch_user_security(**kwargs):
        pass


_GUS_REQUEST = Qot_GetUserSecurity_pb2.Request(c2s=Qot_GetUserSecurity_pb2.C2S(groupName="Tech"))
_GUS_RESPONSE = Qot_GetUserSecurity_pb2.Response

CLIENT_CALLS: dict[str, Call] = {
    "get_user_security(group_name)": lambda c, x: c.get_user_security(x),
    "get_user_security(max_age)": lambda c, x: c.get_user_security("Tech", max_age=x),
    "get_user_security(timeout)": lambda c, x: c.get_user_security("Tech", timeout=x),
    "get_user_security_group(group_type)": lambda c, x: c.get_user_security_group(x),
    "get_user_security_group(timeout)": lambda c, x: c.get_user_security_group(timeout=x),
    "modify_user_security(group_name)": lambda c, x: c.modify_user_security(
        x, ModifyOp.ADD, ["US.NVDA"]
    ),
    "modify_user_security(op)": lambda c, x: c.modify_user_security("Tech", x, ["US.NVDA"]),
    "modify_user_security(securities)": lambda c, x: c.modify_user_security(
        "Tech", ModifyOp.ADD, x
    ),
    "modify_user_security(timeout)": lambda c, x: c.modify_user_security(
        "Tech", ModifyOp.ADD, ["US.NVDA"], timeout=x
    ),
    "request(proto_id)": lambda c, x: c.request(x, _GUS_REQUEST, _GUS_RESPONSE),
    "request(request)": lambda c, x: c.request(3213, x, _GUS_RESPONSE),
    "request(response_type)": lambda c, x: c.request(3213, _GUS_REQUEST, x),
    "request(timeout)": lambda c, x: c.request(3213, _GUS_REQUEST, _GUS_RESPONSE, timeout=x),
    "watch_user_security(groups)": lambda c, x: _watch(c, groups=x),
    "watch_user_security(interval)": lambda c, x: _watch(c, groups=["Tech"], interval=x),
    "watch_user_security(quota_share)": lambda c, x: _watch(c, groups=["Tech"], quota_share=x),
}


async def _quota(client: asyncquote.QuoteClient, proto_id: Any) -> object:
    return client.quota(proto_id)


async def _wait_for_state(client: asyncquote.QuoteClient, state: Any) -> object:
    if state is asyncquote.ConnectionState.CONNECTED or not isinstance(
        state, asyncquote.ConnectionState
    ):
        return await client.wait_for_state(state)
    return None  # another state would wait for ever, as documented


async def _events(client: asyncquote.QuoteClient, buffer: Any) -> None:
    async with client.events(buffer=buffer):
        pass


async def _subscribe(client: asyncquote.QuoteClient, **arguments: Any) -> None:
    arguments = {"codes": ["HK.00700"], "sub_types": [asyncquote.SubType.QUOTE], **arguments}
    async with client.subscribe(**arguments):
        pass


for _argument in (
    "codes",
    "sub_types",
    "extended_time",
    "session",
    "autype",
    "name",
    "buffer",
    "timeout",
):
    CLIENT_CALLS[f"subscribe({_argument})"] = partial(
        lambda c, x, argument: _subscribe(c, **{argument: x}), argument=_argument
    )
CLIENT_CALLS["get_stock_quote(codes)"] = lambda c, x: c.get_stock_quote(x)
CLIENT_CALLS["get_order_book(code)"] = lambda c, x: c.get_order_book(x)
CLIENT_CALLS["get_order_book(num)"] = lambda c, x: c.get_order_book("HK.00700", num=x)
CLIENT_CALLS["get_order_book(order_book_type)"] = lambda c, x: c.get_order_book(
    "HK.00700", order_book_type=x
)
CLIENT_CALLS["get_market_snapshot(codes)"] = lambda c, x: c.get_market_snapshot(x)
CLIENT_CALLS["query_subscription(all_connections)"] = lambda c, x: c.query_subscription(
    all_connections=x
)
CLIENT_CALLS["quota(proto_id)"] = _quota
CLIENT_CALLS["wait_for_state(state)"] = _wait_for_state
CLIENT_CALLS["events(buffer)"] = _events
# The gateway is ready, so a valid timeout returns at once.
CLIENT_CALLS["wait_ready(timeout)"] = lambda c, x: c.wait_ready(timeout=x)
CLIENT_CALLS["get_global_state(timeout)"] = lambda c, x: c.get_global_state(timeout=x)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(anything, min_size=len(CLIENT_CALLS), max_size=len(CLIENT_CALLS)))
def test_arbitrary_values_at_every_client_argument_give_only_documented_errors(
    backend: str, values: list[Any]
) -> None:
    async def main() -> None:
        async with gateway_and_client() as (gateway, client):
            # Ask about OpenD's health once first: its GetGlobalState refresh
            # then lands now, not inside a later call's before/after window.
            await client.wait_ready(timeout=5)
            for (what, call), value in zip(CLIENT_CALLS.items(), values, strict=True):
                before = requests_after_handshake(gateway)
                outcome: BaseException | None = None
                try:
                    with anyio.fail_after(10):
                        await call(client, value)
                except asyncquote.AsyncQuoteError as exc:
                    outcome = exc
                after = requests_after_handshake(gateway)
                if isinstance(outcome, asyncquote.InvalidArgumentError):
                    assert after == before, f"{what} = {value!r} was refused but sent"
                    assert str(outcome)
            # The caller's bad values cost nothing: the same connection serves on.
            conn_id = client.info.conn_id
            with anyio.fail_after(10):
                tech = await client.get_user_security("Tech", max_age=0)
            assert "US.AAPL" in [str(item.basic.security) for item in tech]
            assert client.state is asyncquote.ConnectionState.CONNECTED
            assert client.info.conn_id == conn_id

    anyio.run(main, backend=backend)


CONNECT_ARGUMENTS = [
    "host",
    "port",
    "timeout",
    "connect_timeout",
    "client_id",
    "client_version",
    "push_handler",
    "max_body_len",
    "keepalive",
    "quotas",
    "rate_limiter",
    "on_quota",
    "queue_timeout",
    "quota_retries",
    "reconnect",
    "retry_reads",
    "dead_peer_after",
    "rsa_key",
]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argument=st.sampled_from(CONNECT_ARGUMENTS), value=anything)
def test_arbitrary_values_at_every_connect_argument_give_only_documented_errors(
    backend: str, argument: str, value: Any
) -> None:
    if argument == "host" and isinstance(value, str):
        value = None  # any text would be looked up in the DNS; non-str must be refused
    if argument == "port" and isinstance(value, int) and not isinstance(value, bool):
        value = -abs(value) - 1  # a valid port would be somebody else's

    async def main() -> None:
        async with hostile_gateway() as gateway:
            kwargs: dict[str, Any] = {"host": "127.0.0.1", "port": gateway.port, argument: value}
            kwargs.setdefault("keepalive", False)
            refused = False
            try:
                with anyio.fail_after(10):
                    async with asyncquote.connect(**kwargs):
                        pass
            except asyncquote.InvalidArgumentError:
                refused = True
            except asyncquote.AsyncQuoteError:
                pass
            if refused:
                assert gateway.connections == [], f"{argument}={value!r} refused after connecting"

    anyio.run(main, backend=backend)


@settings(max_examples=300, deadline=None)
@given(value=anything, where=st.sampled_from(["parse", "rows", "frame", "policy", "quota", "rl"]))
def test_arbitrary_values_at_the_other_public_entry_points_give_invalid_argument_errors(
    value: Any, where: str
) -> None:
    policy_fields = [
        "enabled",
        "initial_delay",
        "max_delay",
        "multiplier",
        "jitter",
        "max_attempts",
    ]
    attempts: list[Callable[[], object]] = {
        "parse": [lambda: Security.parse(value)],
        "rows": [lambda: to_rows(value)],
        "frame": [lambda: to_dataframe(value)],
        "policy": [lambda f=f: ReconnectPolicy(**{f: value}) for f in policy_fields],  # type: ignore[misc]
        "quota": [lambda: Quota(value, 1.0), lambda: Quota(1, value)],
        "rl": [lambda: asyncquote.RateLimiter(value)],
    }[where]
    for attempt in attempts:
        # Nothing but InvalidArgumentError may come out (pytest fails the test otherwise).
        with contextlib.suppress(asyncquote.InvalidArgumentError):
            attempt()


@pytest.mark.parametrize("bad", [math.nan, -1, True, "1"], ids=repr)
async def test_a_bad_queue_timeout_is_refused_by_the_rate_limiter_itself(bad: Any) -> None:
    limiter = asyncquote.RateLimiter({3213: Quota(1, 30.0)})
    with pytest.raises(asyncquote.InvalidArgumentError, match="queue_timeout"):
        await limiter.acquire(3213, queue_timeout=bad)
    with pytest.raises(asyncquote.InvalidArgumentError, match="queue_timeout"):
        async with limiter.slot(3213, queue_timeout=bad):
            pass  # pragma: no cover
    assert limiter.status(3213).used == 0


async def test_an_incomplete_request_message_is_refused_before_anything_is_sent() -> None:
    async with gateway_and_client() as (gateway, client):
        with pytest.raises(asyncquote.InvalidArgumentError, match="c2s"):
            await client.request(3213, Qot_GetUserSecurity_pb2.Request(), _GUS_RESPONSE)
        assert requests_after_handshake(gateway) == []


async def test_an_edit_sent_through_request_counts_for_read_your_writes_too() -> None:
    gateway = HostileGateway(groups={"Tech": [Stock(11, "AAPL")]})
    async with (
        hostile_gateway(gateway) as gw,
        asyncquote.connect("127.0.0.1", gw.port, keepalive=False, quotas=NO_QUOTAS) as client,
    ):
        await client.get_user_security("Tech")
        edit = Qot_ModifyUserSecurity_pb2.Request()
        edit.c2s.groupName = "Tech"
        edit.c2s.op = int(ModifyOp.ADD)
        edit.c2s.securityList.add(market=11, code="NVDA")
        await client.request(3214, edit, Qot_ModifyUserSecurity_pb2.Response)
        items = await client.get_user_security("Tech", max_age=60)
    assert [str(item.security) for item in items] == ["US.AAPL", "US.NVDA"]


@given(st.one_of(st.text(), st.binary(), st.integers(), st.none()))
def test_check_text_takes_exactly_the_strings_that_can_go_on_the_wire(value: object) -> None:
    # The one check of a name-like string for the client and the simulator
    # (client_id, the simulator's host, websocket_key, gateway addresses).
    from asyncquote._base.args import check_text, is_plain_text

    plain = isinstance(value, str) and is_plain_text(value)
    for optional in (False, True):
        if plain or (optional and value is None):
            assert check_text("name", value, optional=optional) == value
        else:
            with pytest.raises(asyncquote.InvalidArgumentError, match=r"^name must be"):
                check_text("name", value, optional=optional)


def test_connect_hands_every_argument_to_the_checks_by_its_name() -> None:
    # connect() passes its arguments to ClientOptions.checked all at once, by
    # name (issue 22: its signature is the one public spelling of the names).
    import inspect

    from asyncquote._client.options import ClientOptions

    def shape(function: Callable[..., object]) -> list[tuple[str, object]]:
        return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]

    assert shape(ClientOptions.checked) == shape(asyncquote.connect)
