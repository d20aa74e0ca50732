"""OpenD's request quotas as the simulator enforces them, and the ``--quota`` syntax.

OpenD counts, per account, the times requests *arrive*, and refuses a request
when ``max_calls`` requests of its protocol already arrived within the last
``period`` seconds. All connections to one simulator share one account, so
they share one :class:`QuotaLedger`.

Only *accepted* requests are counted: a refused request takes no slot, so a
client that keeps asking while over quota is served again as soon as the
oldest accepted request is ``period`` seconds old. That is the natural reading
of OpenD's "at most 10 requests per 30 seconds"; OpenD's exact behaviour is not
documented. Either way, the accepted requests never exceed ``max_calls`` in any
window of ``period`` seconds, which is what a client has to get right.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from types import MappingProxyType

# NO_QUOTAS and merge_quotas are re-exported: OpenD's defaults and the one
# rule for overriding them (None turns a quota off) are the client's too.
from .._opend.vocabulary import DEFAULT_QUOTAS, NO_QUOTAS, Quota, merge_quotas

__all__ = [
    "NO_QUOTAS",
    "OPEND_QUOTAS",
    "QuotaLedger",
    "merge_quotas",
    "parse_quota_spec",
    "parse_quota_specs",
]

#: OpenD's quotas: the watchlist protocols allow 10 requests per 30 seconds
#: each, snapshots 60. The client's :data:`asyncquote.DEFAULT_QUOTAS`, the
#: same object.
OPEND_QUOTAS: Mapping[int, Quota] = DEFAULT_QUOTAS

_SPEC_SYNTAX = "expected PROTO=CALLS/SECONDS or PROTO=off, e.g. 3213=10/30"


class QuotaLedger:
    """The arrival times that count against each protocol's quota.

    Pure bookkeeping on plain float timestamps; the server passes
    :func:`anyio.current_time`, so virtual clocks work.

    Args:
        quotas: protocol id → quota; protocols not listed are unlimited.
    """

    def __init__(self, quotas: Mapping[int, Quota]) -> None:
        self._quotas = dict(quotas)
        # Accepted arrival times per protocol, oldest first.
        self._arrivals: dict[int, deque[float]] = {proto_id: deque() for proto_id in quotas}

    @property
    def quotas(self) -> Mapping[int, Quota]:
        """The quotas enforced, by protocol id."""
        return MappingProxyType(self._quotas)

    def over_quota(self, proto_id: int, now: float) -> Quota | None:
        """Admit a request of ``proto_id`` arriving at ``now``, or say which quota refuses it.

        Returns ``None`` and counts the arrival when the request is accepted;
        returns the exceeded quota, counting nothing, when it is refused. An
        arrival at ``t`` stops counting at ``t + period``.
        """
        quota = self._quotas.get(proto_id)
        if quota is None:
            return None
        arrivals = self._arrivals[proto_id]
        # Connection tasks may read the clock in a slightly different order
        # than they reach here; never let time run backwards in one window.
        if arrivals and now < arrivals[-1]:
            now = arrivals[-1]
        horizon = now - quota.period
        while arrivals and arrivals[0] <= horizon:
            arrivals.popleft()
        if len(arrivals) >= quota.max_calls:
            return quota
        arrivals.append(now)
        return None


def parse_quota_spec(spec: str) -> tuple[int, Quota | None]:
    """Parse one ``--quota`` value: ``"3213=10/30"`` or ``"3222=off"``.

    Returns:
        ``(proto_id, quota)``, where ``None`` means the protocol has no quota.

    Raises:
        ValueError: ``spec`` is malformed; the message says what is wrong and
            what was expected.
    """

    def invalid(reason: str) -> ValueError:
        return ValueError(f"invalid quota {spec!r}: {reason}; {_SPEC_SYNTAX}")

    proto_text, sep, limit = (part.strip() for part in spec.partition("="))
    if not sep:
        raise invalid("missing '='")
    try:
        proto_id = int(proto_text)
    except ValueError:
        raise invalid(f"protocol id {proto_text!r} is not a whole number") from None
    if proto_id <= 0:
        raise invalid(f"protocol id {proto_id} is not positive")
    if limit.lower() == "off":
        return proto_id, None
    calls_text, sep, period_text = (part.strip() for part in limit.partition("/"))
    if not sep:
        raise invalid(f"limit {limit!r} has no '/'")
    try:
        max_calls = int(calls_text)
    except ValueError:
        raise invalid(f"call count {calls_text!r} is not a whole number") from None
    try:
        period = float(period_text)
    except ValueError:
        raise invalid(f"period {period_text!r} is not a number of seconds") from None
    if max_calls < 1:
        raise invalid(f"call count {max_calls} is below 1")
    if not 0 < period < math.inf:
        raise invalid(f"period {period_text!r} is not a positive number of seconds")
    return proto_id, Quota(max_calls, period)


def parse_quota_specs(specs: Iterable[str]) -> dict[int, Quota | None]:
    """Parse several ``--quota`` values into a ``quotas=`` mapping; later ones win.

    Raises:
        ValueError: one of ``specs`` is malformed.
    """
    return dict(parse_quota_spec(spec) for spec in specs)
