"""Why a connection ended: one typed reason, said in one sentence.

Every way a connection can end is a :class:`LossKind`; a :class:`Loss` pairs
it with the exception behind it and the figures its sentence needs.
``str(loss)`` is the text users see (``Connection.lost_reason`` and every
:class:`~asyncquote._base.errors.ConnectionLostError`), so no module writes loss
texts of its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

__all__ = ["Loss", "LossKind", "with_handler_error"]


class LossKind(enum.Enum):
    """The one reason a connection became unusable."""

    CLOSED_BY_CLIENT = "closed by the client"
    PEER_CLOSED = "the gateway closed the connection"
    TRUNCATED = "the stream ended inside a frame"
    INVALID_DATA = "the gateway sent invalid data"
    TRANSPORT_FAILED = "the transport failed"
    SEND_FAILED = "sending failed"
    BACKLOG = "too much waits to be sent: the gateway is not reading"
    WRITE_BLOCKED = "nothing could be sent for too long: the gateway is not reading"
    NO_KEEPALIVE_ANSWER = "the gateway answered no keepalive for too long"
    INTERNAL_ERROR = "a bug of ours in a transport callback"


@dataclass(frozen=True)
class Loss:
    """Why a connection ended: a kind, with what is needed to say it in words.

    ``str(loss)`` is the text users see in :class:`ConnectionLostError` and
    ``Connection.lost_reason``.
    """

    kind: LossKind
    cause: BaseException | None = None
    limit: float = 0.0
    """Seconds (WRITE_BLOCKED, NO_KEEPALIVE_ANSWER) or bytes (BACKLOG)."""
    where: str = ""
    """For INTERNAL_ERROR: which callback or task raised."""
    handler_error: BaseException | None = field(default=None, compare=False)
    """The owner's loss handler raised this while being told of the loss."""

    def __str__(self) -> str:
        kind, cause = self.kind, self.cause
        if kind is LossKind.CLOSED_BY_CLIENT:
            text = "the connection was closed by the client"
        elif kind is LossKind.PEER_CLOSED:
            text = "the gateway closed the connection"
        elif kind is LossKind.TRUNCATED:
            text = str(cause)
        elif kind is LossKind.INVALID_DATA:
            text = f"the gateway sent invalid data: {cause}"
        elif kind is LossKind.TRANSPORT_FAILED:
            text = f"transport failed: {cause!r}"
        elif kind is LossKind.SEND_FAILED:
            text = f"sending failed: {cause!r}"
        elif kind is LossKind.BACKLOG:
            text = (
                f"OpenD is not reading: more than {self.limit / 2**20:g} MiB "
                "are waiting to be sent to it"
            )
        elif kind is LossKind.WRITE_BLOCKED:
            text = f"OpenD is not reading: nothing more could be sent to it for {self.limit:g} s"
        elif kind is LossKind.NO_KEEPALIVE_ANSWER:
            text = f"OpenD answered no keepalive for {self.limit:g} s"
        else:
            text = f"internal error in {self.where}: {cause!r}"
        if self.handler_error is not None:
            text += f"; then the loss handler raised {self.handler_error!r}"
        return text


def with_handler_error(loss: Loss, error: BaseException) -> Loss:
    return replace(loss, handler_error=error)
