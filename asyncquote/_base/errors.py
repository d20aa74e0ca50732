"""The exceptions asyncquote raises.

Everything derives from :class:`AsyncQuoteError`. The split follows who is at
fault, so callers can decide what to do:

* the caller misused the API: :class:`InvalidArgumentError` (a bad argument)
  or :class:`UsageError` (e.g. a client used from another event loop);
  nothing was sent, the connection is untouched;
* the gateway said no: :class:`OpenDError` / :class:`RateLimitError`;
* the account's subscription quota has no room: :class:`SubscriptionQuotaError`
  (raised before anything is sent when the client knows the quota);
* the peer sent bytes that are not the protocol: :class:`ProtocolError`;
* the transport failed: :class:`ConnectError`, :class:`ConnectionLostError`;
* the gateway did not answer in time: :class:`RequestTimeoutError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .text import wire_text

if TYPE_CHECKING:  # _health's models import this module
    from .._models.health import GatewayStatus

__all__ = [
    "AsyncQuoteError",
    "BadMagicError",
    "ChecksumMismatchError",
    "ConnectError",
    "ConnectionLostError",
    "FrameTooLargeError",
    "GatewayNotReadyError",
    "InvalidArgumentError",
    "NotSubscribedError",
    "OpenDError",
    "ProtocolError",
    "RateLimitError",
    "RequestTimeoutError",
    "SubscriptionQuotaError",
    "TruncatedFrameError",
    "UnknownGroupError",
    "UsageError",
]


class AsyncQuoteError(Exception):
    """Base class of every error raised by asyncquote."""

    gateway_status: GatewayStatus | None = None
    """What OpenD had reported about itself when a call failed, if that was
    trouble (not logged in to quotes, program status not ``READY``): then the
    message says so too. ``None`` otherwise. See :meth:`QuoteClient.wait_ready`."""


class InvalidArgumentError(AsyncQuoteError, ValueError, TypeError):
    """The caller passed a bad argument; nothing was sent.

    It is both a ``ValueError`` and a ``TypeError`` so that code written for
    either convention catches it.
    """


class UsageError(AsyncQuoteError, RuntimeError):
    """The API was used in a way it cannot work; nothing was sent.

    For example a client used from an event loop other than the one it was
    connected in. The message says what to do instead.
    """


class OpenDError(AsyncQuoteError):
    """The gateway answered a request with ``retType != 0``.

    Attributes:
        ret_type: the ``retType`` field (-1 failed, -100 timeout, ...).
        err_code: the ``errCode`` field, ``0`` when absent.
        message: the gateway's ``retMsg`` text, verbatim; always a ``str``
            (bytes that are not UTF-8 become U+FFFD).
        proto_id: the protocol id of the request that failed.
    """

    def __init__(self, ret_type: int, err_code: int, message: str, proto_id: int) -> None:
        if message.__class__ is not str:
            message = wire_text(message)
        self.ret_type = ret_type
        self.err_code = err_code
        self.message = message
        self.proto_id = proto_id
        super().__init__(
            f"OpenD rejected protocol {proto_id}: {message or '(no message)'} "
            f"(retType={ret_type}, errCode={err_code})"
        )

    def __reduce__(self) -> tuple[type[OpenDError], tuple[int, int, str, int]]:
        # Lets copy and pickle rebuild it from its fields rather than its text.
        return (type(self), (self.ret_type, self.err_code, self.message, self.proto_id))


class UnknownGroupError(OpenDError):
    """OpenD refused a watchlist group it does not have (the group list says so).

    Attributes:
        group: the group asked for.
        groups: the groups OpenD has, by name, as it listed them.
    """

    def __init__(
        self,
        group: str,
        groups: tuple[str, ...],
        ret_type: int,
        err_code: int,
        message: str,
        proto_id: int,
    ) -> None:
        super().__init__(ret_type, err_code, message, proto_id)
        self.group = group
        self.groups = tuple(groups)
        self.args = (
            f"no watchlist group {group!r}; OpenD has {', '.join(map(repr, self.groups))} "
            f"(OpenD says: {message or '(no message)'})",
        )

    def __reduce__(  # type: ignore[override]
        self,
    ) -> tuple[type[UnknownGroupError], tuple[str, tuple[str, ...], int, int, str, int]]:
        return (
            type(self),
            (self.group, self.groups, self.ret_type, self.err_code, self.message, self.proto_id),
        )


class GatewayNotReadyError(AsyncQuoteError):
    """OpenD is connected but not ready to serve: see :meth:`QuoteClient.wait_ready`.

    The message says what OpenD reports, e.g. "OpenD needs a phone
    verification code".

    Attributes:
        status: the gateway's status when the error was raised.
    """

    def __init__(self, status: GatewayStatus, message: str | None = None) -> None:
        self.status = status
        super().__init__(message or f"OpenD is not ready: {status.summary}")

    def __reduce__(self) -> tuple[type[GatewayNotReadyError], tuple[GatewayStatus, str]]:
        return (type(self), (self.status, str(self)))


class RateLimitError(AsyncQuoteError):
    """A call would exceed (or did exceed) the gateway's quota.

    Attributes:
        proto_id: the protocol whose quota is exhausted.
        retry_after: seconds until a slot is expected to be free.
    """

    def __init__(self, proto_id: int, retry_after: float, detail: str = "") -> None:
        self.proto_id = proto_id
        self.retry_after = retry_after
        self.detail = detail
        text = f"quota for protocol {proto_id} exhausted; retry in {retry_after:.2f} s"
        super().__init__(f"{text}: {detail}" if detail else text)

    def __reduce__(self) -> tuple[type[RateLimitError], tuple[int, float, str]]:
        return (type(self), (self.proto_id, self.retry_after, self.detail))


class SubscriptionQuotaError(AsyncQuoteError):
    """A subscription would need more of the account's subscription quota than is left.

    Each (security, subscription type) pair OpenD holds costs one unit; pairs
    the client holds already (for another stream, or waiting for the
    one-minute rule before their unsubscribe) cost nothing more. Nothing was
    sent when the client could tell from the quota it knows (from
    ``query_subscription()`` and Notify); OpenD's own refusal raises it too.

    Attributes:
        needed: units the subscription needs (pairs new to the client);
            ``None`` when OpenD refused without saying.
        remaining: units left as the client reckons them; ``None`` if unknown.
        total: the account's subscription quota; ``None`` if unknown.
        detail: OpenD's text when OpenD refused, else ``""``.
    """

    def __init__(
        self,
        needed: int | None,
        remaining: int | None,
        total: int | None = None,
        detail: str = "",
    ) -> None:
        self.needed = needed
        self.remaining = remaining
        self.total = total
        self.detail = detail
        if needed is not None:
            text = f"subscription needs {needed} more quota unit{'s' if needed != 1 else ''}"
            text += f" but only {remaining} remain" if remaining is not None else ""
            text += f" (of {total})" if total is not None else ""
            text += (
                "; leave other subscriptions (their unsubscribes wait for OpenD's "
                "one-minute rule) or ask for fewer pairs"
            )
        else:
            text = "OpenD refused the subscription: subscription quota exhausted"
        super().__init__(f"{text}: {detail}" if detail else text)

    def __reduce__(
        self,
    ) -> tuple[type[SubscriptionQuotaError], tuple[int | None, int | None, int | None, str]]:
        return (type(self), (self.needed, self.remaining, self.total, self.detail))


class NotSubscribedError(AsyncQuoteError):
    """A request needs a subscription this client does not hold.

    OpenD answers :meth:`~QuoteClient.get_stock_quote` only for securities
    the connection subscribed to ``QUOTE``, and
    :meth:`~QuoteClient.get_order_book` only with an ``ORDER_BOOK``
    subscription. The client checks before sending (then nothing was sent)
    and raises this for OpenD's own refusal too.

    Attributes:
        codes: the securities lacking the subscription, as code strings
            (all those asked for when OpenD refused without saying which).
        sub_type: the subscription type they lack (a ``SubType``).
        detail: OpenD's text when OpenD refused, else ``""``.
    """

    def __init__(self, codes: tuple[str, ...], sub_type: int, detail: str = "") -> None:
        self.codes = tuple(codes)
        self.sub_type = sub_type
        self.detail = detail
        kind = getattr(sub_type, "name", sub_type)
        text = (
            f"no {kind} subscription for {', '.join(self.codes)}: subscribe first "
            f"(async with client.subscribe(codes, [SubType.{kind}]): ...)"
        )
        super().__init__(f"{text}; OpenD says: {detail}" if detail else text)

    def __reduce__(self) -> tuple[type[NotSubscribedError], tuple[tuple[str, ...], int, str]]:
        return (type(self), (self.codes, self.sub_type, self.detail))


class ConnectError(AsyncQuoteError):
    """Could not open a connection: refused, unreachable, or the handshake failed."""


class ConnectionLostError(AsyncQuoteError):
    """The connection closed or failed; the request's outcome is unknown."""


class RequestTimeoutError(AsyncQuoteError, TimeoutError):
    """The gateway did not reply within the call's timeout."""


class ProtocolError(AsyncQuoteError):
    """The peer sent something that is not valid OpenD protocol."""


class BadMagicError(ProtocolError):
    """A frame header did not start with ``b"FT"``."""


class ChecksumMismatchError(ProtocolError):
    """A frame body's SHA-1 did not match its header."""


class FrameTooLargeError(ProtocolError):
    """A frame header announced a body larger than the configured cap."""


class TruncatedFrameError(ProtocolError):
    """The stream ended in the middle of a frame."""
