"""The command line's argument types: each turns one option's text into a value or a usage error.

One job: check one value (a port, a number of seconds, a count, a rate, a
WebSocket key, a quota, status-change or fault spec) and say what is wrong as
argparse shows it (exit 2), before anything runs. The parser that uses them
is :mod:`asyncquote._cli.parser`.
"""

from __future__ import annotations

import argparse
import datetime
import math
from collections.abc import Sequence

from .._base.args import is_plain_text
from .._base.errors import InvalidArgumentError
from .._opend.vocabulary import Quota
from ..sim._gateway import StatusChange
from ..sim._server_args import clock_start_seconds

#: The rule each kind of port follows, as the error messages say it.
_CLIENT_PORTS = "1 to 65535"
_LISTEN_PORTS = "0 to 65535; 0 picks a free one"


def _port_in(text: str, low: int, rule: str) -> int:
    """``text`` as a port number from ``low`` to 65535; else a usage error saying ``rule``."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not low <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number ({rule})")
    return port


def _port(text: str) -> int:
    """A port to listen on, 0 to 65535 (0: any free port)."""
    return _port_in(text, 0, _LISTEN_PORTS)


def _gateway_port(text: str) -> int:
    """A port to connect to, 1 to 65535."""
    return _port_in(text, 1, _CLIENT_PORTS)


def _seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds above 0")
    return seconds


def _timeout(text: str) -> float:
    """A positive number of seconds, or ``inf`` for no limit (as the library takes math.inf)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds > 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds above 0 (inf: no limit)"
        )
    return seconds


def _whole_at_least(text: str, minimum: int) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < minimum:
        raise argparse.ArgumentTypeError(f"{number} must be {minimum} or more")
    return number


def _count(text: str) -> int:
    """A whole number above 0."""
    return _whole_at_least(text, 1)


def _whole(text: str) -> int:
    """A whole number, 0 or more."""
    return _whole_at_least(text, 0)


def _rate(text: str) -> float:
    """A finite number of times a second, 0 or more."""
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0 <= rate < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of times a second >= 0")
    return rate


def _clock_start(text: str) -> datetime.datetime:
    """An ISO 8601 moment with its UTC offset (or ``Z``), e.g. ``2026-01-05T08:00-05:00``."""
    # Python 3.10 reads no "Z"; it is UTC.
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date and time with a UTC offset, "
            "e.g. 2026-01-05T08:00-05:00 or 2026-01-05T13:00Z"
        )
    try:
        clock_start_seconds(moment)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return moment


def _websocket_key(text: str) -> str:
    """A key clients hash as UTF-8: no bytes that are not UTF-8, no control characters."""
    if not is_plain_text(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} has bytes that are not UTF-8 or control characters; give the key "
            "as plain text, as the WebSocket clients are configured with it"
        )
    return text


def _quota_spec(spec: str) -> tuple[int, Quota | None]:
    from ..sim import parse_quota_spec

    try:
        return parse_quota_spec(spec)
    except ValueError as exc:
        # argparse shows an ArgumentTypeError's own text; any other error
        # would become a bare "invalid _quota_spec value".
        raise argparse.ArgumentTypeError(str(exc)) from None


def _status_change(spec: str) -> StatusChange:
    from ..sim import parse_status_change

    example = "give SECONDS=STATUS, e.g. 30=logged-out"
    seconds, sep, _ = spec.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{spec!r}: {example}")
    try:
        after = float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: {seconds!r} is not a number of seconds; {example}"
        ) from None
    if not 0 <= after < math.inf:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: SECONDS must be a finite number of seconds, 0 or more, e.g. 30=logged-out"
        )
    try:
        return parse_status_change(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _FaultAction(argparse.Action):
    """Collects ``--fault NAME[=VALUE]`` options, checking each and how they combine."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        from ..sim import Faults, parse_fault_spec

        chosen: dict[str, object] = dict(getattr(namespace, self.dest) or {})
        try:
            name, value = parse_fault_spec(str(values))
            if name in chosen:
                raise ValueError(f"{name.replace('_', '-')} is given twice")
            chosen[name] = value
            # Options that are fine alone can still clash (reorder with
            # reply-delay). Shuffle is left out: its reorder may come later.
            Faults(**{key: v for key, v in chosen.items() if key != "shuffle"})  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentError(self, str(exc)) from None
        setattr(namespace, self.dest, chosen)
