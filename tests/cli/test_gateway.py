"""``asyncquote status`` and ``asyncquote events``, run in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import anyio
import anyio.from_thread
import pytest
import trio.testing

from asyncquote._cli.gateway import _events
from asyncquote._cli.main import main
from asyncquote._cli.parser import _build_parser
from asyncquote.sim import GatewayState, Simulator

from ..conftest import Runner
from ..e2e.test_reconnect import gateway
from ..hostile_peer import (
    HostileGateway,
    conn_status_notify,
    global_state_body,
    gtw_event_notify,
    hostile_gateway,
    program_status_notify,
)
from .test_commands import one_line_error


@pytest.fixture
def phone_code_gateway() -> Iterator[HostileGateway]:
    """A gateway served from a thread, whose OpenD waits for a phone verification code."""
    gateway = HostileGateway(
        global_state=global_state_body(quote_logged_in=False, program_status=4, desc="sms")
    )
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(hostile_gateway(gateway)) as gw,
    ):
        yield gw


def test_status_prints_a_table(running_sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--port", str(running_sim.port)]) == 0
    out = capsys.readouterr().out
    rows = {line.strip().split("  ")[0]: line for line in out.splitlines()}
    assert "yes: OpenD is ready" in rows["ready"]
    assert rows["program status"].split()[-1] == "READY"
    assert rows["quote login"].split()[-1] == "yes"
    assert "AFTERNOON" in rows["HK"]
    assert "version 904" in rows["OpenD"]


def test_status_json(running_sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json", "--port", str(running_sim.port)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ready"] is True
    state = document["global_state"]
    assert state["program_status"] == {"type": "READY", "description": None}
    assert state["market_hk"] == "AFTERNOON"
    assert state["quote_logged_in"] is True


def test_status_of_an_opend_that_is_not_ready_prints_it_and_exits_1(
    phone_code_gateway: HostileGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--port", str(phone_code_gateway.port)]) == 1
    captured = capsys.readouterr()
    assert "NEED_PHONE_VERIFY_CODE" in captured.out
    line = one_line_error(captured.err)
    assert "OpenD needs a phone verification code" in line
    assert "not logged in to the quote server" in line


def test_status_json_of_an_opend_that_is_not_ready(
    phone_code_gateway: HostileGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json", "--port", str(phone_code_gateway.port)]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["ready"] is False
    assert document["global_state"]["program_status"]["description"] == "sms"
    one_line_error(captured.err)


@pytest.mark.parametrize("command", ["status", "events"])
def test_against_nothing_exits_1_with_one_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--port", "1"]) == 1
    assert "cannot connect to OpenD at 127.0.0.1:1" in one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("bad", ["0", "-3", "x", "1.5"])
def test_a_bad_count_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["events", "--count", bad])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--count" in err
    assert "Traceback" not in err


# Bounds the hang of the bug (waiting for an event that never comes), not a timing goal.
@pytest.mark.timeout(60)
def test_events_prints_the_opends_state_first_and_counts_it(
    running_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    # A quiet gateway sends no event: the state at start is what says which
    # OpenD this is, and `--count 1` ends on it rather than waiting for ever.
    assert main(["events", "--count", "1", "--port", str(running_sim.port)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert "OpenD state: ready:" in lines[0]


@pytest.mark.timeout(60)
def test_events_json_prints_the_opends_state_first(
    phone_code_gateway: HostileGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "--json", "--count", "1", "--port", str(phone_code_gateway.port)]) == 0
    (document,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert document["event"] == "GatewayState"
    assert document["ready"] is False
    assert document["global_state"]["program_status"]["description"] == "sms"


@pytest.mark.parametrize("command", ["status", "events"])
def test_help_shows_the_defaults(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(default: 11111)" in help_text
    assert "--rsa-key" in help_text


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def run_events(options: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    async with hostile_gateway() as gw, anyio.create_task_group() as tg:
        args = _build_parser().parse_args(["events", "--port", str(gw.port), *options])
        tg.start_soon(_events, args)
        with anyio.fail_after(10):
            await gw.wait_for_arrivals(1002)  # subscribed: the health refresh went out
            await gw.push(gtw_event_notify(7, "logged in elsewhere"))
            await gw.push(conn_status_notify(quote=False, trade=True))
            await gw.push(program_status_notify(4, "sms"))
    captured = capsys.readouterr()
    assert "listening for OpenD's events" in captured.err
    return captured.out


@pytest.mark.anyio
async def test_events_prints_a_line_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    out = await run_events(["--count", "4"], capsys)
    state, *lines = out.splitlines()
    assert "OpenD state: ready:" in state
    assert len(lines) == 3
    assert lines[0].endswith("gateway event KICKED_OUT: logged in elsewhere")
    assert lines[1].endswith("login: quotes no, trading yes")
    assert lines[2].endswith(
        "program status: OpenD needs a phone verification code "
        "(program status NEED_PHONE_VERIFY_CODE: sms)"
    )


@pytest.mark.anyio
async def test_events_json_prints_an_object_per_event(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = await run_events(["--count", "4", "--json"], capsys)
    state, *documents = [json.loads(line) for line in out.splitlines()]
    assert state["event"] == "GatewayState"
    assert state["ready"] is True
    for document in documents:
        # When it came, as the text lines say: ISO 8601, UTC.
        received = datetime.fromisoformat(document.pop("timestamp"))
        assert received.utcoffset() == timedelta(0)
        assert abs(datetime.now(timezone.utc) - received) < timedelta(days=1)
    assert documents == [
        {"event": "GatewayEvent", "type": "KICKED_OUT", "description": "logged in elsewhere"},
        {"event": "LoginStatusChanged", "quote_logged_in": False, "trade_logged_in": True},
        {
            "event": "ProgramStatusChanged",
            "program_status": {"type": "NEED_PHONE_VERIFY_CODE", "description": "sms"},
        },
    ]


class TestEventsAfterAReconnect:
    """On trio's virtual clock: OpenD restarted, logged out of Futu's servers."""

    @pytest.fixture
    def anyio_backend(self) -> tuple[str, dict[str, object]]:
        return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})

    async def events_across_a_restart(
        self, options: list[str], capsys: pytest.CaptureFixture[str]
    ) -> list[str]:
        async with gateway() as gw:
            await gw.start()
            args = _build_parser().parse_args(["events", "--port", str(gw.port), *options])
            async with anyio.create_task_group() as tg:
                tg.start_soon(_events, args)
                await anyio.sleep(5)
                await gw.stop()
                await gw.start(gateway=GatewayState.in_status("logged-out"))
                await anyio.sleep(60)  # virtual: ample for the reconnect
                tg.cancel_scope.cancel()
        return capsys.readouterr().out.splitlines()

    @pytest.mark.anyio
    async def test_events_prints_the_new_opends_state(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        lines = await self.events_across_a_restart([], capsys)
        reconnected = next(
            i
            for i, line in enumerate(lines)
            if line.endswith("connection: connected (was reconnecting)")
        )
        state = lines[reconnected + 1 :]
        assert state, lines
        assert "OpenD state: not ready:" in state[0]
        assert "not logged in to the quote server" in state[0]

    @pytest.mark.anyio
    async def test_events_json_prints_the_new_opends_state(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        documents = [
            json.loads(line) for line in await self.events_across_a_restart(["--json"], capsys)
        ]
        states = [d for d in documents if d["event"] == "GatewayState"]
        assert states, documents
        assert states[-1]["ready"] is False
        assert states[-1]["global_state"]["quote_logged_in"] is False
        assert "timestamp" in states[-1]
