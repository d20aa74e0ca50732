"""Fault injection: replies held back by a fixed or random delay."""

from __future__ import annotations

import anyio
import pytest

from asyncquote._pb import Qot_GetUserSecurity_pb2
from asyncquote.framing import encode_frame
from asyncquote.ratelimit import Quota
from asyncquote.sim import NO_QUOTAS, Faults, Simulator

from .rawclient import (
    GET_USER_SECURITY,
    RawClient,
    ready_client,
    time_handshake_and_call,
    user_security,
)

GROUPS = ["All", "HK", "US", "CN", "Tech", "Macro", "期货", "Options"]


def corrupt_sha1(frame: bytes) -> bytes:
    return frame[:16] + bytes(20) + frame[36:]


# --- the options ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply_delay", "error", "message"),
    [
        (-0.1, ValueError, "reply_delay must be a finite number of seconds >= 0"),
        (float("nan"), ValueError, "reply_delay must be"),
        (float("inf"), ValueError, "reply_delay must be"),
        ("0.1", TypeError, "reply_delay must be a number of seconds"),
        (True, TypeError, "reply_delay must be a number of seconds"),
        ((0.2, 0.1), ValueError, "low > high"),
        ((0.1,), ValueError, r"must be \(low, high\)"),
        ((-1, 0.1), ValueError, "reply_delay low must be"),
    ],
)
def test_nonsensical_reply_delays_are_refused(
    reply_delay: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Faults(reply_delay=reply_delay)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply_delay", "delays"),
    [(None, False), (0, False), ((0, 0), False), (0.05, True), ((0, 0.01), True)],
)
def test_only_a_positive_delay_takes_the_delaying_path(
    reply_delay: float | tuple[float, float] | None, delays: bool
) -> None:
    assert Faults(reply_delay=reply_delay).delays_replies is delays


def test_the_same_seed_draws_the_same_delays() -> None:
    faults = Faults(reply_delay=(0.01, 0.2), seed=7)
    first, second = faults.new_rng(), faults.new_rng()
    draws = [faults.reply_delay_from(first) for _ in range(20)]
    assert draws == [faults.reply_delay_from(second) for _ in range(20)]
    assert all(0.01 <= delay <= 0.2 for delay in draws)
    assert len(set(draws)) == 20


# --- over TCP, in real time: asyncio and trio --------------------------------------


@pytest.mark.anyio
async def test_random_delays_reorder_replies_but_each_answers_its_own_request() -> None:
    faults = Faults(reply_delay=(0.01, 0.2), seed=3)
    asked: dict[int, str] = {}
    with anyio.fail_after(5):
        async with (
            Simulator(quotas=NO_QUOTAS, faults=faults) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            for n in range(24):
                group = GROUPS[n % len(GROUPS)]
                asked[await client.send(GET_USER_SECURITY, user_security(group))] = group
            replies = [await client.receive() for _ in asked]
    serials = [reply.serial_no for reply in replies]
    assert serials != sorted(serials)
    assert sorted(serials) == sorted(asked)
    for reply in replies:
        assert reply.proto_id == GET_USER_SECURITY
        response = Qot_GetUserSecurity_pb2.Response.FromString(reply.body)
        expected = sim.watchlists.securities_in(asked[reply.serial_no])
        assert list(response.s2c.staticInfoList) == expected


@pytest.mark.anyio
async def test_frames_never_interleave_when_many_delayed_replies_fall_due_together() -> None:
    # "All" replies are several kilobytes, so a torn write would show.
    body = user_security("All").SerializeToString()
    serials = list(range(2, 302))
    with anyio.fail_after(10):
        async with (
            Simulator(quotas=NO_QUOTAS, faults=Faults(reply_delay=(0, 0.005))) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.stream.send(b"".join(encode_frame(3213, s, body) for s in serials))
            # The decoder checks every frame's magic, length and SHA-1.
            replies = [await client.receive() for _ in serials]
    assert sorted(reply.serial_no for reply in replies) == serials
    assert len({reply.body for reply in replies}) == 1


@pytest.mark.anyio
async def test_replies_still_due_go_out_after_the_client_stops_sending() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(reply_delay=0.05)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            serial = await client.send(GET_USER_SECURITY, user_security("HK"))
            await client.stream.send_eof()
            reply = await client.receive()
            assert await client.closed_by_peer()
    assert reply.serial_no == serial


@pytest.mark.anyio
async def test_requests_before_a_broken_frame_are_still_answered_after_their_delay() -> None:
    good = encode_frame(GET_USER_SECURITY, 11, user_security("HK").SerializeToString())
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(reply_delay=0.05)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.stream.send(good + corrupt_sha1(good))
            reply = await client.receive()
            assert await client.closed_by_peer()
    assert reply.serial_no == 11


@pytest.mark.anyio
async def test_exit_does_not_wait_for_replies_still_due() -> None:
    with anyio.fail_after(5):
        async with Simulator(faults=Faults(reply_delay=3600)) as sim:
            client = await anyio.connect_tcp(sim.host, sim.port)
            async with client:
                raw = RawClient(client)
                await raw.init_connect()
                await raw.send(GET_USER_SECURITY, user_security("HK"))
                await anyio.sleep(0.05)  # let the request arrive
                assert sim.open_connections == 1
    assert sim.open_connections == 0
    assert [record.proto_id for record in sim.requests] == [1001, GET_USER_SECURITY]


# --- over TCP, in virtual time --------------------------------------------------


@pytest.mark.anyio
class TestOverVirtualTime:
    """Delays measured on trio's MockClock, so they are exact and cost no real time."""

    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_a_fixed_delay_holds_each_reply_back_but_not_the_handshake(self) -> None:
        with anyio.fail_after(60):
            async with Simulator(faults=Faults(reply_delay=0.05)) as sim:
                handshake, call = await time_handshake_and_call(sim.host, sim.port)
        assert handshake == 0
        assert call == pytest.approx(0.05)

    async def test_a_delayed_reply_does_not_hold_up_reading_the_next_request(self) -> None:
        with anyio.fail_after(60):
            async with (
                Simulator(faults=Faults(reply_delay=1.0)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                start = anyio.current_time()
                for group in ["HK", "US", "CN"]:
                    await client.send(GET_USER_SECURITY, user_security(group))
                    await anyio.sleep(0.1)
                replies = [await client.receive() for _ in range(3)]
                done = anyio.current_time()
        assert [reply.serial_no for reply in replies] == [2, 3, 4]
        assert [record.time - start for record in sim.requests][1:] == pytest.approx([0, 0.1, 0.2])
        assert done - start == pytest.approx(1.2)

    async def test_quotas_count_arrivals_not_delayed_replies(self) -> None:
        with anyio.fail_after(60):
            async with (
                Simulator(quotas={3213: Quota(2, 2.0)}, faults=Faults(reply_delay=5.0)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                for _ in range(3):
                    await client.send(GET_USER_SECURITY, user_security("HK"))
                replies = [await client.receive() for _ in range(3)]
        results = {
            reply.serial_no: Qot_GetUserSecurity_pb2.Response.FromString(reply.body).retType
            for reply in replies
        }
        # Each reply left 5 s after its request, long after a 2 s window; the
        # third was still refused, because all three arrived together.
        assert results == {2: 0, 3: 0, 4: -1}
        assert [record.serial_no for record in sim.rejections] == [4]
