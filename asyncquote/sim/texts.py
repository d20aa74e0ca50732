"""What the simulator says when it refuses a request: ``retType``, ``errCode`` and text.

The simulator speaks like an English-language OpenD. Where OpenD's own
wording is known (``"Unknown watchlists"``) it is used verbatim, so client code
that matches on it can be tested; the other texts are the simulator's own.
Clients should branch on ``retType``/``errCode``, not on these strings.
"""

from __future__ import annotations

__all__ = [
    "ERR_FAILED",
    "ERR_INVALID_PACKET",
    "ERR_UNKNOWN_GROUP",
    "INTERNAL_ERROR",
    "INVALID_PACKET",
    "NOT_INITIALISED",
    "RET_FAILED",
    "RET_INVALID",
    "RET_OK",
    "RET_UNKNOWN",
    "UNKNOWN_GROUP",
    "UNKNOWN_GROUP_TYPE",
    "UNKNOWN_PROTOCOL",
    "UNQUERYABLE_GROUP",
    "UNSUPPORTED_ENCRYPTION",
    "UNSUPPORTED_FORMAT",
]

# retType values (Common.RetType).
RET_OK = 0
RET_FAILED = -1
RET_UNKNOWN = -400
RET_INVALID = -500

# errCode values. OpenD's own codes are not public, so these are the
# simulator's; what matters to clients is that a failure carries a nonzero one.
ERR_FAILED = 1
ERR_UNKNOWN_GROUP = 2
ERR_INVALID_PACKET = 3

UNKNOWN_GROUP = "Unknown watchlists"
UNQUERYABLE_GROUP = "Watchlist group {name!r} cannot be queried (positions, funds and forex)"
UNKNOWN_GROUP_TYPE = "Unknown watchlist group type {group_type}"
NOT_INITIALISED = "InitConnect must be the first request on a connection (got protocol {proto_id})"
UNKNOWN_PROTOCOL = "unknown protocol {proto_id}"
UNSUPPORTED_FORMAT = "protocol format {proto_fmt} is not supported; send protobuf (0)"
UNSUPPORTED_ENCRYPTION = "packetEncAlgo {algo} is not supported; send -1 (no encryption)"
INVALID_PACKET = "invalid packet for protocol {proto_id}: {detail}"
INTERNAL_ERROR = "simulator error while handling protocol {proto_id}"
