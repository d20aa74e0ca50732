"""State the protocol handlers read and write: one object per server, one per
connection, and the record of each request that arrived."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from .._opend.vocabulary import REQUEST_TYPES, ProtoId
from ._gateway import GatewayState
from ._market import Exchange
from ._quotas import OPEND_QUOTAS, QuotaLedger
from ._subscriptions import Subscriptions
from ._texts import Language
from ._watchlists import WatchlistStore

__all__ = ["ConnectionState", "RequestRecord", "ServerState", "max_arrivals_in_window"]


@dataclass(slots=True)
class ServerState:
    """Everything shared by all connections of one simulator.

    Attributes:
        watchlists: the groups and securities served by 3213/3222 and edited by 3214.
        gateway: what the gateway says about itself (GetGlobalState, the
            InitConnect reply's ``serverVer``); replaced, never mutated, by
            the simulator when it changes (see :mod:`._gateway`).
        login_user_id: the account the gateway is logged in as.
        keepalive_interval: seconds, told to clients in the InitConnect reply.
        wall_clock: epoch seconds for the ``time`` fields; swap it to pin time.
        quotas: the account's request quotas, shared by every connection.
        language: the language of the texts that have a Chinese version.
        on_watchlists_change: called with :attr:`watchlists` after each 3214
            request that changed them, before the reply is sent; the
            simulator's state file is saved here. If it raises ``OSError``
            the change is undone and the request refused.
        encrypted: the simulator holds an RSA key, so InitConnect must ask
            for an encrypted connection (``packetEncAlgo`` 0, 1 or 2).
        market: the quotes and order books served and pushed (see
            :mod:`._market`); an empty market unless the simulator makes one.
        subscriptions: every connection's quote subscriptions and the
            account's subscription quota (see :mod:`._subscriptions`).
        now: the arrival time (:func:`anyio.current_time`) of the request
            being handled, set by the dispatcher before each handler runs.
        market_clock: the market's time, epoch seconds (the simulator's
            clock mapped onto :attr:`wall_clock` when it starts).
        on_subscriptions_change: called after a request changed the
            subscriptions (the simulator then tells the clients the quota
            used, once the reply is on its way).
    """

    watchlists: WatchlistStore
    gateway: GatewayState = field(default_factory=GatewayState)
    login_user_id: int = 10_000_001
    keepalive_interval: int = 10
    wall_clock: Callable[[], float] = field(default=time.time)
    quotas: QuotaLedger = field(default_factory=lambda: QuotaLedger(OPEND_QUOTAS))
    language: Language = "en"
    on_watchlists_change: Callable[[WatchlistStore], object] | None = None
    encrypted: bool = False
    market: Exchange = field(default_factory=lambda: Exchange(()))
    subscriptions: Subscriptions = field(default_factory=Subscriptions)
    now: float = 0.0
    market_clock: Callable[[], float] = field(default=time.time)
    on_subscriptions_change: Callable[[], object] = field(default=lambda: None)


@dataclass(slots=True, eq=False)
class ConnectionState:
    """One client connection, from accept to close.

    ``conn_id`` is assigned at accept, so requests that arrive before
    InitConnect can be attributed too; InitConnect hands the same id to the
    client as ``connID``. ``enc_algo`` is the ``packetEncAlgo`` the last
    successful InitConnect agreed on (-1: none); ``refuse_handshake`` makes
    InitConnect fail (the fault of that name). The AES key and IV are kept
    out of the repr, as they would decrypt the connection.

    ``quote_pushes`` is set, never unset, once the connection has asked for
    a quote push, so that from then on it sends under a lock (see
    :mod:`._peer`). ``after_reply`` holds the pushes a handler wants sent
    right after its reply, as ``(proto_id, body)``: the current state that
    Qot_Sub's ``isFirstPush`` asks for.
    """

    conn_id: int
    peer: str = ""
    initialised: bool = False
    client_id: str = ""
    client_ver: int = 0
    recv_notify: bool = False
    aes_key: str = field(default="", repr=False)
    aes_iv: str = field(default="", repr=False)
    enc_algo: int = -1
    refuse_handshake: bool = False
    quote_pushes: bool = False
    after_reply: list[tuple[int, bytes]] = field(default_factory=list, repr=False)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request frame as it reached the simulator.

    Attributes:
        proto_id: the frame's protocol id.
        serial_no: the frame's serial number.
        conn_id: the simulator's id for the connection (the ``connID`` of its
            InitConnect reply).
        time: arrival time from :func:`anyio.current_time`.
        over_quota: the request was refused for exceeding its protocol's
            quota (and so did not count against it).
        body: the request body as the simulator read it (decrypted on an
            encrypted connection); see :attr:`group`.
    """

    proto_id: int
    serial_no: int
    conn_id: int
    time: float
    over_quota: bool = False
    body: bytes = field(default=b"", repr=False, compare=False)

    @property
    def group(self) -> str | None:
        """The watchlist group the request names (3213 and 3214), as sent; else ``None``.

        Decoded from :attr:`body` on each access, so recording costs nothing.
        """
        if self.proto_id not in _GROUP_PROTOCOLS or not self.body:
            return None
        request = REQUEST_TYPES[self.proto_id]()
        try:
            request.ParseFromString(self.body)
        except DecodeError:
            return None
        c2s = request.c2s  # type: ignore[attr-defined]
        return str(c2s.groupName) if c2s.HasField("groupName") else None


# The protocols whose C2S names one group (groupName).
_GROUP_PROTOCOLS = frozenset({ProtoId.GET_USER_SECURITY, ProtoId.MODIFY_USER_SECURITY})


def max_arrivals_in_window(records: Iterable[RequestRecord], proto_id: int, period: float) -> int:
    """The most accepted requests of ``proto_id`` in ``records`` within any ``period`` seconds.

    Over half-open windows ``[t, t + period)``, the windows quotas are enforced over.
    """
    times = sorted(
        record.time for record in records if record.proto_id == proto_id and not record.over_quota
    )
    # For each arrival, count those that arrived in the window it opens.
    return max(
        (bisect.bisect_left(times, start + period, lo=i) - i for i, start in enumerate(times)),
        default=0,
    )
