"""What the simulator says when it refuses a request: ``retType``, ``errCode`` and text.

The simulator speaks like an English-language OpenD by default. Where OpenD's
own wording is known (``"Unknown watchlists"``, and the shape of its quota
refusal) it is followed, so client code that matches on it can be tested; the
other texts are the simulator's own. With ``language="zh"`` the quota and
unknown-group texts are Chinese, as a Chinese-language OpenD sends them; the
rest stay English. Clients should branch on ``retType``/``errCode``, not on
these strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ..ratelimit import Quota

__all__ = [
    "ERR_FAILED",
    "ERR_INVALID_PACKET",
    "ERR_TOO_FREQUENT",
    "ERR_UNKNOWN_GROUP",
    "INTERNAL_ERROR",
    "INVALID_PACKET",
    "LANGUAGES",
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
    "Language",
    "quota_exceeded",
    "unknown_group",
]

Language = Literal["en", "zh"]
"""The languages the simulator can refuse requests in."""

LANGUAGES: tuple[Language, ...] = ("en", "zh")

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
ERR_TOO_FREQUENT = 4

UNKNOWN_GROUP = "Unknown watchlists"
UNQUERYABLE_GROUP = "Watchlist group {name!r} cannot be queried (positions, funds and forex)"
UNKNOWN_GROUP_TYPE = "Unknown watchlist group type {group_type}"
NOT_INITIALISED = "InitConnect must be the first request on a connection (got protocol {proto_id})"
UNKNOWN_PROTOCOL = "unknown protocol {proto_id}"
UNSUPPORTED_FORMAT = "protocol format {proto_fmt} is not supported; send protobuf (0)"
UNSUPPORTED_ENCRYPTION = "packetEncAlgo {algo} is not supported; send -1 (no encryption)"
INVALID_PACKET = "invalid packet for protocol {proto_id}: {detail}"
INTERNAL_ERROR = "simulator error while handling protocol {proto_id}"

_UNKNOWN_GROUP: Mapping[Language, str] = {"en": UNKNOWN_GROUP, "zh": "未知自选股分组"}

# The operation a quota refusal names, per protocol id.
_OPERATIONS: Mapping[int, Mapping[Language, str]] = {
    3213: {"en": "Get user security", "zh": "获取自选股"},
    3214: {"en": "Modify user security", "zh": "修改自选股"},
    3222: {"en": "Get user security group", "zh": "获取自选股分组"},
}
_OTHER_OPERATION: Mapping[Language, str] = {"en": "Protocol {proto_id}", "zh": "协议{proto_id}"}

# OpenD's Chinese shape is "<operation>频率太高，请求失败，每30秒最多10次。";
# the English one says the same in the same order.
_QUOTA_EXCEEDED: Mapping[Language, str] = {
    "en": "{operation} too frequent, request failed: at most {max_calls} requests per {period}.",
    "zh": "{operation}频率太高，请求失败，每{seconds}秒最多{max_calls}次。",
}


def unknown_group(language: Language) -> str:
    """The refusal of a watchlist group that does not exist."""
    return _UNKNOWN_GROUP[language]


def quota_exceeded(proto_id: int, quota: Quota, language: Language) -> str:
    """The refusal of a request of ``proto_id`` that would exceed ``quota``.

    For example ``"Get user security too frequent, request failed: at most 10
    requests per 30 seconds."`` or ``"获取自选股频率太高，请求失败，每30秒最多10次。"``.
    """
    operation = _OPERATIONS.get(proto_id, _OTHER_OPERATION)[language]
    seconds = f"{quota.period:g}"
    return _QUOTA_EXCEEDED[language].format(
        operation=operation.format(proto_id=proto_id),
        max_calls=quota.max_calls,
        seconds=seconds,
        period="second" if quota.period == 1 else f"{seconds} seconds",
    )
