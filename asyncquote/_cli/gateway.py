"""The command line's health commands: ``status`` and ``events``.

``status`` asks OpenD for its global state and prints it as a table (or
JSON); it exits 1, after printing, when OpenD is not ready, so that
``asyncquote status && ./my-bot`` starts the bot only on a usable gateway.
``events`` prints OpenD's events, one line each (or one JSON object each),
as they come, until Ctrl-C or ``--count``. Like every command, these fail
by raising (see :mod:`asyncquote._cli.commands`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

import anyio

from .._base.errors import AsyncQuoteError
from .._client.client import QuoteClient
from .._io.session import ConnectionState
from .._io.taskgroups import single_errors
from .._models.events import (
    ApiQuotaChanged,
    ConnectionStateChanged,
    Event,
    GatewayEvent,
    LoginStatusChanged,
    ProgramStatusChanged,
    QuoteRightsChanged,
    UsedQuotaChanged,
)
from .._models.health import GatewayStatus, GlobalState
from .commands import (
    _CommandFailed,
    _connect,
    _end_when_stdout_closes,
    _enum_name,
    _json_ready,
)

__all__ = ["_events", "_status"]


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _utc(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _status_table(address: str, state: GlobalState, status: GatewayStatus) -> str:
    program = state.program_status
    rows = [
        ("OpenD", f"{address}, version {state.server_version} build {state.server_build_no}"),
        ("ready", f"{_yes_no(status.ready)}: {status.summary}"),
        ("program status", "-" if program is None else str(_enum_name(program.type))),
        ("quote login", _yes_no(state.quote_logged_in)),
        ("trade login", _yes_no(state.trade_logged_in)),
        ("server time", _utc(state.server_time)),
        ("OpenD's time", _utc(state.local_time)),
        ("quote server", state.quote_server_address or "-"),
        ("trade server", state.trade_server_address or "-"),
        ("connection id", "-" if state.conn_id is None else str(state.conn_id)),
    ]
    markets = [
        (name.removeprefix("market_").replace("_", " ").upper(), value)
        for name, value in state
        if name.startswith("market_") and value is not None
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.append("markets")
    lines += [f"  {label:<{width - 2}}  {_enum_name(value)}" for label, value in markets]
    return "\n".join(lines)


async def _status(args: argparse.Namespace) -> None:
    async with _connect(args) as client:
        state = await client.get_global_state()
        status = client.gateway
    if args.json:
        print(json.dumps(_state_document(state, status), ensure_ascii=False, indent=2))
    else:
        print(_status_table(f"{args.host}:{args.port}", state, status))
    if not status.ready:
        raise _CommandFailed(f"OpenD is not ready: {status.summary}")


def _state_document(state: GlobalState, status: GatewayStatus) -> dict[str, Any]:
    """``status --json``'s document (also ``events --json``'s GatewayState line)."""
    return {
        "ready": status.ready,
        "summary": status.summary,
        "global_state": _json_ready(state.model_dump()),
    }


def _describe(event: Event) -> str:
    """One readable line for ``event``."""
    if isinstance(event, GatewayEvent):
        return f"gateway event {_enum_name(event.type)}: {event.description or '(no text)'}"
    if isinstance(event, ProgramStatusChanged):
        return f"program status: {event.program_status.summary}"
    if isinstance(event, LoginStatusChanged):
        return (
            f"login: quotes {_yes_no(event.quote_logged_in)}, "
            f"trading {_yes_no(event.trade_logged_in)}"
        )
    if isinstance(event, QuoteRightsChanged):
        rights = event.quote_rights.model_dump(exclude_none=True)
        return "quote rights: " + " ".join(
            f"{market}={_enum_name(right)}" for market, right in rights.items()
        )
    if isinstance(event, ApiQuotaChanged):
        return (
            f"API quota: {event.subscription_quota} subscriptions, "
            f"{event.history_kline_quota} historical K-line requests"
        )
    if isinstance(event, UsedQuotaChanged):
        return (
            f"quota used: {_or_unknown(event.used_subscription_quota)} subscriptions, "
            f"{_or_unknown(event.used_kline_quota)} historical K-line requests"
        )
    if isinstance(event, ConnectionStateChanged):
        return f"connection: {event.state.value} (was {event.previous.value})"
    return repr(event)  # pragma: no cover - every Event is handled above


def _or_unknown(value: int | None) -> str:
    return "?" if value is None else str(value)


def _event_json(event: Event, timestamp: str) -> str:
    # Enum members as their names (ConnectionState's too: "RECONNECTING").
    document: dict[str, Any] = {
        "event": type(event).__name__,
        "timestamp": timestamp,
        **_json_ready(event.model_dump()),
    }
    return json.dumps(document, ensure_ascii=False)


def _reconnected(event: Event) -> bool:
    """Whether ``event`` is the client's connection coming back: perhaps to another OpenD."""
    return (
        isinstance(event, ConnectionStateChanged)
        and event.state is ConnectionState.CONNECTED
        and event.previous is ConnectionState.RECONNECTING
    )


async def _state_lines(client: QuoteClient, args: argparse.Namespace) -> list[str]:
    """The gateway's state, asked for now: at start, and after a reconnect, as OpenD may
    have restarted logged out and no Notify says so. Nothing (a note on stderr) when it
    cannot be asked.
    """
    try:
        state = await client.get_global_state()
    except AsyncQuoteError as exc:
        print(f"(could not ask OpenD for its state: {exc})", file=sys.stderr, flush=True)
        return []
    status = client.gateway
    now = datetime.now(timezone.utc)
    if args.json:
        document = {"event": "GatewayState", "timestamp": now.isoformat()}
        return [json.dumps({**document, **_state_document(state, status)}, ensure_ascii=False)]
    ready = "ready" if status.ready else "not ready"
    return [f"{now:%H:%M:%S}  OpenD state: {ready}: {status.summary}"]


async def _events(args: argparse.Namespace) -> None:
    async with (
        _connect(args) as client,
        client.events() as events,
        single_errors(),
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(_end_when_stdout_closes)
        print(
            f"listening for OpenD's events at {args.host}:{args.port} (Ctrl-C to stop)",
            file=sys.stderr,
            flush=True,
        )
        printed = dropped = 0

        def emit(lines: list[str]) -> bool:
            """Print ``lines``, up to ``--count`` in all; True once that many are printed."""
            nonlocal printed
            for line in lines[: None if args.count is None else args.count - printed]:
                print(line, flush=True)
                printed += 1
            return args.count is not None and printed >= args.count

        # First the state of the OpenD connected to, as after a reconnect: a
        # quiet gateway sends no event, and this says which one it is and
        # whether it is ready. The events are subscribed already: none is lost.
        if not emit(await _state_lines(client, args)):
            async for event in events:
                if events.dropped > dropped:
                    print(
                        f"({events.dropped - dropped} events dropped: printing fell behind)",
                        file=sys.stderr,
                        flush=True,
                    )
                    dropped = events.dropped
                now = datetime.now(timezone.utc)
                lines = [
                    _event_json(event, now.isoformat())
                    if args.json
                    else f"{now:%H:%M:%S}  {_describe(event)}"
                ]
                if _reconnected(event):
                    lines += await _state_lines(client, args)
                if emit(lines):
                    break
            else:
                # The client closed (reconnecting off or given up): the stream ended.
                raise _CommandFailed("the connection to OpenD was closed; no more events")
        tg.cancel_scope.cancel()
