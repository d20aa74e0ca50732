"""The simulator's fault injection: its options, held-back replies, each fault byte by byte.

The ``Faults`` options are checked on their own (validation, ``--fault``
specs, seeding). The faults themselves are driven over TCP with raw frames:
the client side reads the socket with :class:`Wire`, which takes frames apart
without checking them, so a test sees exactly what a client would. How the
*client* copes with each fault is in ``tests/e2e/test_faults.py``.
"""

from __future__ import annotations

import hashlib
import random
import re
import struct
from dataclasses import dataclass

import anyio
import anyio.abc
import pytest

from asyncquote._base.errors import (
    ChecksumMismatchError,
    FrameTooLargeError,
    InvalidArgumentError,
    TruncatedFrameError,
)
from asyncquote._client.ratelimit import Quota
from asyncquote._opend.framing import HEADER_SIZE, MAGIC, FrameDecoder, encode_frame
from asyncquote._pb import InitConnect_pb2, KeepAlive_pb2, Qot_GetUserSecurity_pb2
from asyncquote.sim import FAULT_NAMES, NO_QUOTAS, Faults, Simulator, parse_fault_spec
from asyncquote.sim import _texts as texts
from asyncquote.sim._faults import GARBAGE_SIZE, OVERSIZE_BODY_LEN, picks

from .rawclient import (
    GET_USER_SECURITY,
    INIT_CONNECT,
    KEEP_ALIVE,
    MODIFY_USER_SECURITY,
    RawClient,
    modify_user_security,
    ready_client,
    time_handshake_and_call,
    user_security,
)

# -- the Faults options: validation, --fault specs, seeding --------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"reorder": 1}, ValueError, "reorder must be"),
        ({"reorder": 2.5}, TypeError, "reorder must be an int"),
        ({"reorder": True}, TypeError, "reorder must be an int"),
        ({"reorder": 4, "reorder_wait": -1}, ValueError, "reorder_wait must be"),
        ({"shuffle": 1}, TypeError, "shuffle must be True or False"),
        ({"corrupt_sha1": 0}, ValueError, "corrupt_sha1 must be >= 1"),
        ({"garbage": 0.0}, ValueError, r"garbage as a probability must be in \(0, 1\]"),
        ({"duplicate": 1.5}, ValueError, "duplicate as a probability"),
        ({"unknown_serial": "1"}, TypeError, "unknown_serial must be an int n"),
        ({"corrupt_sha1": True}, TypeError, "corrupt_sha1 must be an int n"),
        ({"drop_after": -1}, ValueError, "drop_after must be"),
        ({"truncate_after": 1.0}, TypeError, "truncate_after must be an int"),
        ({"oversize_after": None, "silence_after": -2}, ValueError, "silence_after must be"),
        ({"handshake_delay": float("inf")}, ValueError, "handshake_delay must be"),
        ({"refuse_handshake": "yes"}, TypeError, "refuse_handshake must be True or False"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"reorder": 4, "reply_delay": 0.1}, ValueError, "cannot be combined"),
        ({"shuffle": True}, ValueError, "shuffle needs reorder"),
    ],
)
def test_options_that_make_no_sense_are_refused_naming_the_option(
    options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Faults(**options)  # type: ignore[arg-type]


def test_a_zero_reply_delay_may_go_with_reorder() -> None:
    assert Faults(reorder=3, reply_delay=0).reorder == 3


@pytest.mark.parametrize(
    "options",
    [
        {"reply_delay": 0.1},
        {"reorder": 2},
        {"corrupt_sha1": 1},
        {"garbage": 0.5},
        {"unknown_serial": 3},
        {"duplicate": 1},
        {"drop_after": 0},
        {"truncate_after": 5},
        {"oversize_after": 0},
        {"silence_after": 0},
        {"handshake_delay": 0.5},
        {"refuse_handshake": True},
    ],
)
def test_every_option_switches_the_faulty_path_on(options: dict[str, object]) -> None:
    assert Faults(**options).active  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options", [{}, {"seed": 3}, {"reply_delay": 0}, {"handshake_delay": 0.0}, {"reorder_wait": 1}]
)
def test_options_that_change_nothing_keep_the_fast_path(options: dict[str, object]) -> None:
    assert not Faults(**options).active  # type: ignore[arg-type]


def test_every_nth_picks_by_number_without_touching_the_generator() -> None:
    rng = random.Random(1)
    state = rng.getstate()
    assert [n for n in range(1, 10) if picks(3, n, rng)] == [3, 6, 9]
    assert [n for n in range(1, 4) if picks(1, n, rng)] == [1, 2, 3]
    assert not picks(None, 5, rng)
    assert rng.getstate() == state


def test_a_probability_picks_about_that_share_reproducibly() -> None:
    first = [picks(0.25, n, random.Random(9)) for n in range(1, 2001)]
    rng = random.Random(9)
    again = [picks(0.25, n, rng) for n in range(1, 2001)]
    assert 400 < sum(again) < 600
    assert again != first  # each call above drew afresh; one generator draws a sequence
    rng = random.Random(9)
    assert [picks(0.25, n, rng) for n in range(1, 2001)] == again


def test_each_connection_gets_its_own_reproducible_generator() -> None:
    faults = Faults(seed=42)
    first = [faults.rng_for(conn_id).random() for conn_id in (1, 2, 3)]
    assert [faults.rng_for(conn_id).random() for conn_id in (1, 2, 3)] == first
    assert len(set(first)) == 3
    assert Faults(seed=43).rng_for(1).random() != first[0]


def test_describe_lists_the_options_switched_on_in_cli_spelling() -> None:
    faults = Faults(reorder=4, shuffle=True, corrupt_sha1=0.25, drop_after=10, seed=3)
    assert faults.describe() == "reorder=4 shuffle corrupt-sha1=0.25 drop-after=10 seed=3"
    assert Faults(reply_delay=(0.01, 0.2)).describe() == "reply-delay=0.01:0.2"
    assert Faults().describe() == "none"


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("reply-delay=0.5", ("reply_delay", 0.5)),
        ("reply_delay=0.01:0.2", ("reply_delay", (0.01, 0.2))),
        ("reorder=4", ("reorder", 4)),
        ("shuffle", ("shuffle", True)),
        ("reorder-wait=0.2", ("reorder_wait", 0.2)),
        ("corrupt-sha1", ("corrupt_sha1", 1)),
        ("corrupt-sha1=3", ("corrupt_sha1", 3)),
        ("corrupt-sha1=0.1", ("corrupt_sha1", 0.1)),
        ("garbage=1e-2", ("garbage", 0.01)),
        ("Unknown-Serial=2", ("unknown_serial", 2)),
        ("duplicate", ("duplicate", 1)),
        ("drop-after=0", ("drop_after", 0)),
        ("truncate-after=3", ("truncate_after", 3)),
        ("oversize-after=1", ("oversize_after", 1)),
        ("silence-after=2", ("silence_after", 2)),
        ("handshake-delay=1.5", ("handshake_delay", 1.5)),
        ("refuse-handshake", ("refuse_handshake", True)),
    ],
)
def test_fault_specs_parse_into_faults_arguments(spec: str, parsed: tuple[str, object]) -> None:
    assert parse_fault_spec(spec) == parsed
    name, value = parsed
    Faults(**{name: value, "reorder": 2 if name == "shuffle" else None})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown fault 'nope'; expected one of: reply-delay, reorder, shuffle"),
        ("reorder=four", "fault 'reorder=four': 'four' is not a whole number"),
        ("reorder=1", "fault 'reorder=1': reorder must be"),
        ("reply-delay=a:b", "is not seconds, or LOW:HIGH seconds"),
        ("reply-delay=0.2:0.1", "low > high"),
        ("corrupt-sha1=0", "corrupt_sha1 must be >= 1"),
        ("garbage=2.0", r"garbage as a probability must be in \(0, 1\]"),
        ("drop-after", "fault 'drop-after' needs a value: a whole number of requests"),
        ("drop-after=", "needs a value"),
        ("refuse-handshake=yes", "refuse-handshake takes no value"),
        ("handshake-delay=-1", "handshake_delay must be a number of seconds"),
    ],
)
def test_fault_specs_that_make_no_sense_are_refused_with_the_reason(
    spec: str, message: str
) -> None:
    # InvalidArgumentError, as Faults(...) raises; still a ValueError.
    with pytest.raises(InvalidArgumentError, match=message):
        parse_fault_spec(spec)


def test_the_documented_names_are_exactly_the_options_but_the_seed() -> None:
    options = [field.replace("_", "-") for field in Faults.__dataclass_fields__]
    assert list(FAULT_NAMES) == [name for name in options if name != "seed"]


# One example value per option: adding a fault to Faults fails this test until
# it has one, and then --fault, --help and describe() know it with no more edits.
_EXAMPLES: dict[str, object] = {
    "reply_delay": (0.01, 0.2),
    "reorder": 4,
    "shuffle": True,
    "reorder_wait": 0.1,
    "corrupt_sha1": 0.5,
    "garbage": 3,
    "unknown_serial": 2,
    "duplicate": 1,
    "drop_after": 0,
    "truncate_after": 5,
    "oversize_after": 6,
    "silence_after": 7,
    "handshake_delay": 1.5,
    "refuse_handshake": True,
}


def test_every_option_round_trips_through_describe_and_the_fault_syntax() -> None:
    assert [name.replace("_", "-") for name in _EXAMPLES] == list(FAULT_NAMES)
    for name, value in _EXAMPLES.items():
        extra: dict[str, object] = {"reorder": 2} if name == "shuffle" else {}
        faults = Faults(**{name: value, **extra})  # type: ignore[arg-type]
        specs = faults.describe().split()
        assert dict(map(parse_fault_spec, specs)) == {name: value, **extra}


def test_the_help_text_names_every_option() -> None:
    from asyncquote.sim._faults import FAULT_USAGE

    for name in FAULT_NAMES:
        assert re.search(rf"(^|[ |]){name}([=\[|,]|$)", FAULT_USAGE), name


# -- replies held back by a fixed or random delay ------------------------------


GROUPS = ["All", "HK", "US", "CN", "Tech", "Macro", "期货", "Options"]


def corrupt_sha1(frame: bytes) -> bytes:
    return frame[:16] + bytes(20) + frame[36:]


# --- the options ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply_delay", "error", "message"),
    [
        (-0.1, ValueError, "reply_delay must be a number of seconds"),
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
class TestDelaysOverVirtualTime:
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


# -- each fault over TCP, checked byte by byte ---------------------------------


HEADER = struct.Struct("<2sIBBII20s8s")
HK = user_security("HK").SerializeToString()


@dataclass(frozen=True)
class RawFrame:
    proto_id: int
    serial_no: int
    body_len: int
    sha1: bytes
    body: bytes
    data: bytes

    @property
    def sha1_ok(self) -> bool:
        return hashlib.sha1(self.body).digest() == self.sha1

    @property
    def sha1_flipped(self) -> bool:
        return bytes(b ^ 0xFF for b in hashlib.sha1(self.body).digest()) == self.sha1


class Wire:
    """The raw bytes a client receives: exact counts, unchecked frames, or the end."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += await self.stream.receive()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def frame(self) -> RawFrame:
        header = await self.take(HEADER_SIZE)
        magic, proto_id, _, _, serial_no, body_len, sha1, _ = HEADER.unpack(header)
        assert magic == MAGIC, header
        body = await self.take(body_len)
        return RawFrame(proto_id, serial_no, body_len, sha1, body, header + body)

    async def rest(self) -> bytes:
        """Everything until the simulator closes the connection."""
        try:
            while True:
                self.buffer += await self.stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    async def nothing_for(self, seconds: float) -> bool:
        """True if no byte arrives (and the connection stays open) for ``seconds``."""
        with anyio.move_on_after(seconds):
            await self.take(len(self.buffer) + 1)
            return False
        return True


def pipelined(serials: range, body: bytes = HK, proto_id: int = GET_USER_SECURITY) -> bytes:
    return b"".join(encode_frame(proto_id, serial, body) for serial in serials)


def hk_reply_body(sim: Simulator) -> bytes:
    response = Qot_GetUserSecurity_pb2.Response(retType=0)
    response.s2c.staticInfoList.extend(sim.watchlists.securities_in("HK"))
    return response.SerializeToString()


@dataclass
class Replies:
    sim: Simulator
    frames: list[RawFrame]
    rest: bytes
    """What followed the frames until the simulator closed (when asked for)."""


async def replies(
    faults: Faults, count: int, frames: int | None = None, *, until_closed: bool = False
) -> Replies:
    """Send ``count`` pipelined 3213 requests (serials 2, 3, ...) after a handshake.

    Collects the first ``frames`` frames that come back (``count`` by
    default) and, if ``until_closed``, every byte after them until the
    simulator closes the connection.
    """
    async with (
        Simulator(quotas=NO_QUOTAS, faults=faults) as sim,
        ready_client(sim.host, sim.port) as client,
    ):
        await client.stream.send(pipelined(range(2, 2 + count)))
        wire = Wire(client.stream)
        got = [await wire.frame() for _ in range(count if frames is None else frames)]
        rest = await wire.rest() if until_closed else b""
    return Replies(sim, got, rest)


async def serials_from(faults: Faults, count: int) -> list[int]:
    """Serials of the replies to ``count`` pipelined requests (serials 2, 3, ...)."""
    return [frame.serial_no for frame in (await replies(faults, count)).frames]


# --- reordering ------------------------------------------------------------------


@pytest.mark.anyio
async def test_reorder_sends_each_full_batch_in_reverse() -> None:
    with anyio.fail_after(5):
        serials = await serials_from(Faults(reorder=4, reorder_wait=60), 8)
    assert serials == [5, 4, 3, 2, 9, 8, 7, 6]


@pytest.mark.anyio
async def test_shuffled_batches_are_reproducible_with_a_seed() -> None:
    faults = Faults(reorder=4, shuffle=True, reorder_wait=60, seed=5)
    with anyio.fail_after(5):
        first = await serials_from(faults, 12)
        second = await serials_from(faults, 12)
    assert first == second
    assert first != sorted(first)
    # Shuffled within each batch, never across batches.
    for start in range(0, 12, 4):
        assert sorted(first[start : start + 4]) == list(range(start + 2, start + 6))


@pytest.mark.anyio
async def test_a_partial_batch_goes_out_as_soon_as_the_client_stops_sending() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(reorder=4, reorder_wait=3600)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.stream.send(pipelined(range(2, 4)))
            await client.stream.send_eof()
            wire = Wire(client.stream)
            serials = [(await wire.frame()).serial_no for _ in range(2)]
            assert await wire.rest() == b""
    assert serials == [3, 2]


# --- mangled replies ---------------------------------------------------------------


@pytest.mark.anyio
async def test_corrupt_sha1_flips_the_digest_of_every_nth_reply_and_leaves_the_body() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(corrupt_sha1=2), 4)
    frames = got.frames
    assert [f.serial_no for f in frames] == [2, 3, 4, 5]
    assert [f.sha1_ok for f in frames] == [True, False, True, False]
    assert all(f.sha1_flipped for f in frames if not f.sha1_ok)
    assert {f.body for f in frames} == {hk_reply_body(got.sim)}
    decoder = FrameDecoder()
    assert len(decoder.feed(frames[0].data)) == 1
    with pytest.raises(ChecksumMismatchError):
        decoder.feed(frames[1].data)


async def corrupted_serials(seed: int) -> list[int]:
    frames = (await replies(Faults(corrupt_sha1=0.5, seed=seed), 40)).frames
    return [f.serial_no for f in frames if not f.sha1_ok]


@pytest.mark.anyio
async def test_corrupt_sha1_with_a_probability_repeats_for_the_same_seed() -> None:
    with anyio.fail_after(5):
        first = await corrupted_serials(seed=11)
        again = await corrupted_serials(seed=11)
        other = await corrupted_serials(seed=12)
    assert first == again
    assert 5 < len(first) < 35
    assert other != first


@pytest.mark.anyio
async def test_garbage_replaces_the_chosen_replies_with_bytes_that_are_not_a_frame() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(garbage=2, seed=1)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.stream.send(pipelined(range(2, 5)))
            wire = Wire(client.stream)
            first = await wire.frame()
            garbage = await wire.take(GARBAGE_SIZE)
            third = await wire.frame()
    assert (first.serial_no, third.serial_no) == (2, 4)
    assert first.sha1_ok
    assert third.sha1_ok
    assert not garbage.startswith(MAGIC)
    assert garbage != bytes(GARBAGE_SIZE)


@pytest.mark.anyio
async def test_unknown_serial_answers_with_a_serial_the_client_never_used() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(unknown_serial=1), 2)
    frames = got.frames
    serials = [f.serial_no for f in frames]
    assert not set(serials) & {1, 2, 3}
    assert len(set(serials)) == 2
    assert all(f.proto_id == GET_USER_SECURITY and f.sha1_ok for f in frames)
    assert {f.body for f in frames} == {hk_reply_body(got.sim)}


@pytest.mark.anyio
async def test_duplicate_sends_the_chosen_replies_twice_back_to_back() -> None:
    with anyio.fail_after(5):
        frames = (await replies(Faults(duplicate=2), 3, frames=4)).frames
    assert [f.serial_no for f in frames] == [2, 3, 3, 4]
    assert frames[1].data == frames[2].data
    assert all(f.sha1_ok for f in frames)


# --- ending the connection -----------------------------------------------------------


@pytest.mark.anyio
async def test_drop_after_answers_that_many_then_closes_when_the_next_arrives() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(drop_after=2), 4, frames=2, until_closed=True)
    assert [frame.serial_no for frame in got.frames] == [2, 3]
    assert got.rest == b""
    # The request that met the closed door still arrived and was handled.
    assert [record.serial_no for record in got.sim.requests] == [1, 2, 3, 4]


@pytest.mark.anyio
async def test_drop_after_zero_closes_on_the_first_request_after_the_handshake() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(drop_after=0)) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            await client.send(KEEP_ALIVE, KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)))
            assert await client.closed_by_peer()


@pytest.mark.anyio
async def test_drop_discards_replies_still_held_back() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(reply_delay=3600, drop_after=1), 2, frames=0, until_closed=True)
    assert got.rest == b""


@pytest.mark.anyio
async def test_truncate_after_sends_a_header_and_half_the_body_then_closes() -> None:
    with anyio.fail_after(5):
        got = await replies(Faults(truncate_after=1), 2, frames=1, until_closed=True)
    (whole,), rest = got.frames, got.rest
    assert whole.serial_no == 2
    _, proto_id, _, _, serial_no, body_len, _, _ = HEADER.unpack(rest[:HEADER_SIZE])
    assert (proto_id, serial_no, body_len) == (GET_USER_SECURITY, 3, whole.body_len)
    assert len(rest) == HEADER_SIZE + body_len // 2
    decoder = FrameDecoder()
    assert decoder.feed(rest) == []
    with pytest.raises(TruncatedFrameError):
        decoder.close()


@pytest.mark.anyio
class TestFaultsOverVirtualTime:
    """Faults about time, measured on trio's MockClock: exact, and free."""

    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_a_partial_reorder_batch_waits_reorder_wait_then_goes_out_reversed(
        self,
    ) -> None:
        with anyio.fail_after(60):
            async with (
                Simulator(faults=Faults(reorder=4, reorder_wait=0.5)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                start = anyio.current_time()
                await client.stream.send(pipelined(range(2, 5)))
                wire = Wire(client.stream)
                serials = [(await wire.frame()).serial_no for _ in range(3)]
                waited = anyio.current_time() - start
        assert serials == [4, 3, 2]
        assert waited == pytest.approx(0.5)

    async def test_oversize_after_announces_a_2_gib_body_then_falls_silent(self) -> None:
        with anyio.fail_after(3600):
            async with (
                Simulator(faults=Faults(oversize_after=1)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                await client.stream.send(pipelined(range(2, 4)))
                wire = Wire(client.stream)
                assert (await wire.frame()).serial_no == 2
                header = await wire.take(HEADER_SIZE)
                await client.send(GET_USER_SECURITY, user_security("US"), serial_no=4)
                assert await wire.nothing_for(600)
                assert sim.open_connections == 1
        _, proto_id, _, _, serial_no, body_len, _, _ = HEADER.unpack(header)
        assert (proto_id, serial_no, body_len) == (GET_USER_SECURITY, 3, OVERSIZE_BODY_LEN)
        with pytest.raises(FrameTooLargeError):
            FrameDecoder().feed(header)
        assert [record.serial_no for record in sim.requests] == [1, 2, 3, 4]

    async def test_silence_after_answers_that_many_then_nothing_but_keeps_the_socket(
        self,
    ) -> None:
        with anyio.fail_after(3600):
            async with (
                Simulator(faults=Faults(silence_after=1)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                reply = await client.call(
                    GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
                )
                await client.send(KEEP_ALIVE, KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)))
                await client.send(
                    MODIFY_USER_SECURITY, modify_user_security("Tech", 1, [(1, "00005")])
                )
                assert await Wire(client.stream).nothing_for(600)
                assert sim.open_connections == 1
                # Unanswered, but handled: the edit was made.
                assert (1, "00005") in sim.watchlists.find_group("Tech").members  # type: ignore[union-attr]
        assert reply.retType == 0
        assert [r.proto_id for r in sim.requests] == [
            INIT_CONNECT,
            GET_USER_SECURITY,
            KEEP_ALIVE,
            MODIFY_USER_SECURITY,
        ]

    async def test_silence_after_zero_answers_the_handshake_and_nothing_else(self) -> None:
        with anyio.fail_after(3600):
            async with (
                Simulator(faults=Faults(silence_after=0)) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                await client.send(GET_USER_SECURITY, user_security("HK"))
                assert await Wire(client.stream).nothing_for(600)

    async def test_handshake_delay_holds_back_only_the_initconnect_reply(self) -> None:
        with anyio.fail_after(60):
            async with Simulator(faults=Faults(handshake_delay=2.5)) as sim:
                handshake, call = await time_handshake_and_call(sim.host, sim.port)
        assert handshake == pytest.approx(2.5)
        assert call == 0


# --- the handshake ---------------------------------------------------------------


@pytest.mark.anyio
async def test_refuse_handshake_fails_initconnect_and_leaves_the_connection_unusable() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(faults=Faults(refuse_handshake=True)) as sim,
            RawClient.connect(sim.host, sim.port) as client,
        ):
            refused = await client.init_connect()
            after = await client.call(
                GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
            )
            assert sim.open_connections == 1
    assert (refused.retType, refused.retMsg) == (-1, texts.HANDSHAKE_REFUSED)
    assert not refused.HasField("s2c")
    assert after.retType == -1
    assert after.retMsg == texts.NOT_INITIALISED.format(proto_id=GET_USER_SECURITY)


@pytest.mark.anyio
async def test_faults_spare_everything_before_and_including_the_handshake() -> None:
    faults = Faults(corrupt_sha1=1, duplicate=1)
    with anyio.fail_after(5):
        async with (
            Simulator(faults=faults) as sim,
            RawClient.connect(sim.host, sim.port) as client,
        ):
            await client.stream.send(pipelined(range(1, 2)))
            init = InitConnect_pb2.Request(
                c2s=InitConnect_pb2.C2S(clientVer=1, clientID="t", packetEncAlgo=-1)
            )
            await client.send(INIT_CONNECT, init, serial_no=2)
            await client.send(GET_USER_SECURITY, user_security("HK"), serial_no=3)
            wire = Wire(client.stream)
            frames = [await wire.frame() for _ in range(4)]
    assert [(f.serial_no, f.sha1_ok) for f in frames] == [
        (1, True),
        (2, True),
        (3, False),
        (3, False),
    ]


@pytest.mark.anyio
async def test_changing_faults_affects_new_connections_only() -> None:
    with anyio.fail_after(5):
        async with Simulator() as sim, ready_client(sim.host, sim.port) as early:
            sim.faults = Faults(refuse_handshake=True)
            async with RawClient.connect(sim.host, sim.port) as late:
                assert (await late.init_connect()).retType == -1
            reply = await early.call(
                GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
            )
            assert reply.retType == 0
            sim.faults = Faults()
            async with ready_client(sim.host, sim.port):
                pass
            with pytest.raises(TypeError, match="faults must be a Faults"):
                sim.faults = {"refuse_handshake": True}  # type: ignore[assignment]
