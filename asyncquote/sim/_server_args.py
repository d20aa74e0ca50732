"""The simulator's argument checks: every constructor argument, before anything is bound.

One job: say which of :class:`~._server.Simulator`'s arguments is wrong, as
an :class:`~asyncquote.InvalidArgumentError` naming it, so a bad value fails
at construction rather than when the simulator starts. The simulator itself
is :mod:`._server`.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable

from .._base.args import check_duration, check_int, check_text
from .._base.errors import InvalidArgumentError
from ._faults import Faults
from ._gateway import GatewayState, StatusChange
from ._texts import LANGUAGES

_PORT_MAX = 65535
_INT32_MAX = 2**31 - 1


def check_simulator_arguments(
    host: object,
    port: object,
    *,
    watchlists: object,
    keepalive_interval: object,
    record_limit: object,
    quotas: object,
    language: object,
    faults: object,
    state_path: object,
    rsa_key: object,
    handshake_timeout: object,
    websocket_port: object,
    websocket_key: object,
    gateway: object,
    status_changes: Iterable[object],
    push_backlog: object,
    quote_rate: object,
    market_seed: object,
    subscription_quota: object,
    clock_start: object,
) -> tuple[StatusChange, ...]:
    """Check :class:`Simulator`'s arguments (all of them, by their names); raise naming one.

    ``quotas`` is checked where it is merged (:func:`~._quotas.merge_quotas`),
    ``rsa_key`` where it is loaded, ``state_path`` where it is read and
    ``subscription_quota`` as every :class:`~._gateway.GatewayState` field is.
    Returns the status changes as a tuple: they are read once, so a
    generator is checked and kept, not used up by the check.

    Raises:
        InvalidArgumentError: the first bad argument.
    """
    # The name lookup and the key's MD5 encode as UTF-8, which a lone
    # surrogate is not: checked here rather than failing at start.
    check_text("host", host)
    check_int("port", port, minimum=0, maximum=_PORT_MAX)
    if websocket_port is not None:
        check_int("websocket_port", websocket_port, minimum=0, maximum=_PORT_MAX)
    check_text("websocket_key", websocket_key, optional=True)
    check_int("keepalive_interval", keepalive_interval, minimum=1, maximum=_INT32_MAX)
    if record_limit is not None:
        check_int("record_limit", record_limit, minimum=0)
    check_int("push_backlog", push_backlog, minimum=1)
    check_market_arguments(quote_rate=quote_rate, market_seed=market_seed, clock_start=clock_start)
    if language not in LANGUAGES:
        raise InvalidArgumentError(f"language must be one of {LANGUAGES}, not {language!r}")
    if handshake_timeout is not None:
        check_duration("handshake_timeout", handshake_timeout, positive=True, finite=True)
    if faults is not None:
        check_faults(faults)
    if gateway is not None and not isinstance(gateway, GatewayState):
        raise InvalidArgumentError(f"gateway must be a GatewayState, not {gateway!r}")
    changes: list[StatusChange] = []
    for change in status_changes:
        if not isinstance(change, StatusChange):
            raise InvalidArgumentError(
                f"status_changes must hold StatusChange values, not {change!r}"
            )
        changes.append(change)
    if websocket_port is not None and rsa_key is not None:
        # The gateway's own InitConnect would have to be encrypted.
        raise InvalidArgumentError("websocket_port cannot be combined with rsa_key")
    if watchlists is not None and state_path is not None:
        raise InvalidArgumentError("pass watchlists or state_path, not both")
    return tuple(changes)


def check_market_arguments(
    *, quote_rate: object, market_seed: object, clock_start: object = None
) -> None:
    """Raise :class:`InvalidArgumentError` unless the market's arguments are valid."""
    clock_start_seconds(clock_start)
    if isinstance(market_seed, bool) or not isinstance(market_seed, int):
        raise InvalidArgumentError(f"market_seed must be a whole number, not {market_seed!r}")
    if isinstance(quote_rate, bool) or not isinstance(quote_rate, int | float):
        raise InvalidArgumentError(f"quote_rate must be a number per second, not {quote_rate!r}")
    if not 0 <= quote_rate < math.inf:
        raise InvalidArgumentError(f"quote_rate must be a finite number >= 0, not {quote_rate!r}")


# The last second a datetime can hold: every time the market writes is one.
_LAST_SECOND = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc).timestamp()


def clock_start_seconds(clock_start: object) -> float | None:
    """``clock_start`` as epoch seconds (``None`` stays ``None``: the wall clock's now).

    Raises:
        InvalidArgumentError: not ``None``, a number of epoch seconds from 0
            to the end of year 9999, or a datetime with a time zone (a naive
            one would be read in the machine's own zone, so differently on CI).
    """
    if clock_start is None:
        return None
    if isinstance(clock_start, datetime.datetime):
        if clock_start.utcoffset() is None:
            raise InvalidArgumentError(
                f"clock_start must be a datetime with a time zone, not the naive {clock_start!r}"
            )
        seconds = clock_start.timestamp()
    elif isinstance(clock_start, int | float) and not isinstance(clock_start, bool):
        seconds = float(clock_start)
    else:
        raise InvalidArgumentError(
            f"clock_start must be epoch seconds or an aware datetime, not {clock_start!r}"
        )
    if not 0 <= seconds <= _LAST_SECOND:
        raise InvalidArgumentError(
            f"clock_start must be from 1970 to 9999 (epoch seconds 0 to {_LAST_SECOND:.0f}), "
            f"not {clock_start!r}"
        )
    return seconds


def check_faults(faults: object) -> None:
    """Raise :class:`InvalidArgumentError` unless ``faults`` is a :class:`Faults`."""
    if not isinstance(faults, Faults):
        raise InvalidArgumentError(f"faults must be a Faults, not {faults!r}")
