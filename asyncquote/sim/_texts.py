"""What the simulator says when it refuses a request: ``retType``, ``errCode`` and text.

The simulator speaks like an English-language OpenD by default. Where OpenD's
own wording is known (``"Unknown watchlists"``, and the shape of its quota
refusal) it is followed, so client code that matches on it can be tested; the
other texts are the simulator's own. With ``language="zh"`` the refusals about
watchlists (quotas, groups, securities, edits) and live quotes
(subscriptions, their quota and one-minute rule, snapshots) are Chinese, as a
Chinese-language OpenD sends them; those about the protocol itself (framing,
format, InitConnect) stay English. Clients should branch on
``retType``/``errCode``, not on these strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from .._opend.vocabulary import Quota, RetType

__all__ = [
    "ENCRYPTION_REQUIRED",
    "ERR_FAILED",
    "ERR_INVALID_PACKET",
    "ERR_NOT_LOGGED_IN",
    "ERR_NOT_SUBSCRIBED",
    "ERR_SUBSCRIPTION_QUOTA",
    "ERR_SYSTEM_GROUP",
    "ERR_TOO_FREQUENT",
    "ERR_TOO_MANY_SECURITIES",
    "ERR_UNKNOWN_GROUP",
    "ERR_UNKNOWN_SECURITY",
    "ERR_UNSUBSCRIBE_TOO_SOON",
    "HANDSHAKE_REFUSED",
    "INTERNAL_ERROR",
    "INVALID_PACKET",
    "LANGUAGES",
    "NOT_INITIALISED",
    "RET_FAILED",
    "RET_INVALID",
    "RET_OK",
    "RET_UNKNOWN",
    "UNDECRYPTABLE",
    "UNKNOWN_ENCRYPTION",
    "UNKNOWN_GROUP",
    "UNKNOWN_GROUP_TYPE",
    "UNKNOWN_PROTOCOL",
    "UNQUERYABLE_GROUP",
    "UNSUPPORTED_ENCRYPTION",
    "UNSUPPORTED_FORMAT",
    "Language",
    "bad_count",
    "bad_order_book_levels",
    "broker_queue_hk_only",
    "empty_security_list",
    "empty_sub_types",
    "gateway_event_description",
    "not_logged_in",
    "not_subscribed",
    "quota_exceeded",
    "save_failed",
    "subscription_quota_exceeded",
    "system_group_read_only",
    "too_many_securities",
    "unknown_group",
    "unknown_group_type",
    "unknown_kl_type",
    "unknown_modify_op",
    "unknown_order_book_type",
    "unknown_rehab_type",
    "unknown_securities",
    "unknown_sub_types",
    "unqueryable_group",
    "unsubscribe_too_soon",
]

Language = Literal["en", "zh"]
"""The languages the simulator can refuse requests in."""

LANGUAGES: tuple[Language, ...] = ("en", "zh")

# retType values (Common.RetType), as plain ints.
RET_OK = RetType.OK.value
RET_FAILED = RetType.FAILED.value
RET_UNKNOWN = RetType.UNKNOWN.value
RET_INVALID = RetType.INVALID.value

# errCode values. OpenD's own codes are not public, so these are the
# simulator's; what matters to clients is that a failure carries a nonzero one.
ERR_FAILED = 1
ERR_UNKNOWN_GROUP = 2
ERR_INVALID_PACKET = 3
ERR_TOO_FREQUENT = 4
ERR_SYSTEM_GROUP = 5
ERR_UNKNOWN_SECURITY = 6
ERR_NOT_LOGGED_IN = 7
ERR_NOT_SUBSCRIBED = 8
ERR_SUBSCRIPTION_QUOTA = 9
ERR_UNSUBSCRIBE_TOO_SOON = 10
ERR_TOO_MANY_SECURITIES = 11

UNKNOWN_GROUP = "Unknown watchlists"
UNQUERYABLE_GROUP = "Watchlist group {name!r} cannot be queried (positions, funds and forex)"
UNKNOWN_GROUP_TYPE = (
    "Unknown watchlist group type {group_type} (expected 1 custom, 2 system or 3 all)"
)
NOT_INITIALISED = "InitConnect must be the first request on a connection (got protocol {proto_id})"
UNKNOWN_PROTOCOL = "unknown protocol {proto_id}"
UNSUPPORTED_FORMAT = "protocol format {proto_fmt} is not supported; send protobuf (0)"
UNSUPPORTED_ENCRYPTION = "packetEncAlgo {algo} is not supported; send -1 (no encryption)"
ENCRYPTION_REQUIRED = (
    "this gateway encrypts its connections: send InitConnect RSA-encrypted with its key, "
    "asking for packetEncAlgo 0 (FTAES_ECB), 1 (AES_ECB) or 2 (AES_CBC)"
)
UNKNOWN_ENCRYPTION = "packetEncAlgo {algo} is not supported; send 0, 1 or 2"
UNDECRYPTABLE = "request body could not be decrypted with the connection's AES key: {detail}"
HANDSHAKE_REFUSED = "InitConnect refused (simulated fault: refuse_handshake)"
INVALID_PACKET = "invalid packet for protocol {proto_id}: {detail}"
INTERNAL_ERROR = "simulator error while handling protocol {proto_id}"

_UNKNOWN_GROUP: Mapping[Language, str] = {"en": UNKNOWN_GROUP, "zh": "未知自选股分组"}
_UNQUERYABLE_GROUP: Mapping[Language, str] = {
    "en": UNQUERYABLE_GROUP,
    "zh": "自选股分组{name!r}不支持查询：持仓、基金宝和外汇分组无法获取",
}
_UNKNOWN_GROUP_TYPE: Mapping[Language, str] = {
    "en": UNKNOWN_GROUP_TYPE,
    "zh": "未知自选股分组类型{group_type}，应为1自定义、2系统或3全部",
}
_SYSTEM_GROUP_READ_ONLY: Mapping[Language, str] = {
    "en": "System watchlists cannot be modified: {name!r} is a system group",
    "zh": "系统自选股分组不支持修改：{name!r}是系统分组",
}
_UNKNOWN_SECURITIES: Mapping[Language, str] = {
    "en": "Unknown stock: {codes}",
    "zh": "未知股票：{codes}",
}
_MORE_CODES: Mapping[Language, str] = {
    "en": " and {count:,} more",
    "zh": " 等另外{count}个",
}
_CODES_NAMED = 5
_EMPTY_SECURITY_LIST: Mapping[Language, str] = {
    "en": "No securities given: securityList is empty",
    "zh": "未指定股票：securityList为空",
}
_UNKNOWN_MODIFY_OP: Mapping[Language, str] = {
    "en": "Unknown watchlist operation {op} (expected 1 add, 2 delete or 3 move out)",
    "zh": "未知自选股操作{op}，应为1添加、2删除或3移出分组",
}
_SAVE_FAILED: Mapping[Language, str] = {
    "en": "Watchlists not modified: the simulator could not save them ({reason})",
    "zh": "自选股未修改，模拟器无法保存：{reason}",
}

# OpenD's wording for a quote call while it is logged out is not public (the
# official SDK only passes retMsg on); this text is the simulator's own.
_NOT_LOGGED_IN: Mapping[Language, str] = {
    "en": "Not logged in to the quote server, request failed.",
    "zh": "行情服务器未登录，请求失败。",
}

# What the simulator says in a GtwEvent's ``desc`` (and the program status's
# ``strExtDesc``) when it logs out; OpenD's own texts are not public either.
_GATEWAY_EVENTS: Mapping[str, Mapping[Language, str]] = {
    "KICKED_OUT": {
        "en": "Logged out: the account logged in on another device",
        "zh": "账号已在其他设备登录，被踢下线",
    },
    "LOGIN_PWD_CHANGED": {
        "en": "Logged out: the login password was changed",
        "zh": "登录密码已修改，请重新登录",
    },
    "NEED_PIC_VERIFY_CODE": {
        "en": "Login needs a picture verification code",
        "zh": "登录需要输入图形验证码",
    },
    "NEED_PHONE_VERIFY_CODE": {
        "en": "Login needs a phone verification code",
        "zh": "登录需要输入手机验证码",
    },
    "LOGIN_FAILED": {"en": "Login failed", "zh": "登录失败"},
    "FORCE_UPDATE": {
        "en": "This OpenD version is too old; please update it",
        "zh": "OpenD版本过低，请升级",
    },
    "NESSARY_DATA_MISSING": {"en": "Necessary data is missing", "zh": "缺少必要数据"},
    "UN_AGREE_DISCLAIMER": {
        "en": "The disclaimer has not been agreed to",
        "zh": "未同意免责声明",
    },
}
_OTHER_GATEWAY_EVENT: Mapping[Language, str] = {
    "en": "Gateway event {name}",
    "zh": "网关事件{name}",
}

# The operation a quota refusal names, per protocol id.
_OPERATIONS: Mapping[int, Mapping[Language, str]] = {
    3213: {"en": "Get user security", "zh": "获取自选股"},
    3214: {"en": "Modify user security", "zh": "修改自选股"},
    3222: {"en": "Get user security group", "zh": "获取自选股分组"},
    3203: {"en": "Get market snapshot", "zh": "获取快照"},
}
_OTHER_OPERATION: Mapping[Language, str] = {"en": "Protocol {proto_id}", "zh": "协议{proto_id}"}

# OpenD's Chinese shape is "<operation>频率太高，请求失败，每30秒最多10次。";
# the English one says the same in the same order.
_QUOTA_EXCEEDED: Mapping[Language, str] = {
    "en": "{operation} too frequent, request failed: at most {max_calls} requests per {period}.",
    "zh": "{operation}频率太高，请求失败，每{seconds}秒最多{max_calls}次。",
}


# Subscriptions and quotes. OpenD's own wording of these refusals is not
# public (the official SDK passes retMsg on; its documentation states the
# rules, not the texts): these are the simulator's, saying the rule.
_SUBSCRIPTION_QUOTA: Mapping[Language, str] = {
    "en": "Subscription quota exceeded: {needed} more needed, {remaining} of {quota} left: {pairs}",
    "zh": "订阅额度不足：还需{needed}个，剩余{remaining}个，共{quota}个：{pairs}",
}
_UNSUBSCRIBE_TOO_SOON: Mapping[Language, str] = {
    "en": "Unsubscribe failed: a subscription can be cancelled only {seconds} seconds "
    "after it was made: {pairs}",
    "zh": "反订阅失败，订阅后至少{seconds}秒才能反订阅：{pairs}",
}
_NOT_SUBSCRIBED: Mapping[Language, str] = {
    "en": "Not subscribed on this connection; subscribe first: {pairs}",
    "zh": "本连接未订阅，请先订阅：{pairs}",
}
_EMPTY_SUB_TYPES: Mapping[Language, str] = {
    "en": "No subscription types given: subTypeList is empty",
    "zh": "未指定订阅类型：subTypeList为空",
}
_UNKNOWN_SUB_TYPES: Mapping[Language, str] = {
    "en": "Unknown subscription type: {types}",
    "zh": "未知订阅类型：{types}",
}
_TOO_MANY_SECURITIES: Mapping[Language, str] = {
    "en": "Too many securities: at most {limit} per request, got {count}",
    "zh": "股票数量过多：每次最多{limit}只，当前{count}只",
}
_BAD_COUNT: Mapping[Language, str] = {
    "en": "{field} must be at least 1, not {num}",
    "zh": "{field}至少为1，当前为{num}",
}
_UNKNOWN_KL_TYPE: Mapping[Language, str] = {
    "en": "Unknown K-line type: {value}",
    "zh": "未知的K线类型：{value}",
}
_UNKNOWN_BOOK_TYPE: Mapping[Language, str] = {
    "en": "Unknown order book type: {value}",
    "zh": "未知的摆盘类型：{value}",
}
_UNKNOWN_REHAB_TYPE: Mapping[Language, str] = {
    "en": "Unknown rehab type: {value}",
    "zh": "未知的复权类型：{value}",
}
_BROKER_QUEUE_HK_ONLY: Mapping[Language, str] = {
    "en": "Broker queues are only available for Hong Kong securities: {code}",
    "zh": "经纪队列仅支持港股：{code}",
}
_BAD_LEVELS: Mapping[Language, str] = {
    "en": "num must be at least 1, not {num}",
    "zh": "num至少为1，当前为{num}",
}


def unknown_group(language: Language) -> str:
    """The refusal of a watchlist group that does not exist."""
    return _UNKNOWN_GROUP[language]


def unqueryable_group(name: str, language: Language) -> str:
    """The refusal of 3213 for a positions, mutual fund or forex group."""
    return _UNQUERYABLE_GROUP[language].format(name=name)


def unknown_group_type(group_type: int, language: Language) -> str:
    """The refusal of 3222 with a ``groupType`` other than 1, 2 or 3."""
    return _UNKNOWN_GROUP_TYPE[language].format(group_type=group_type)


def system_group_read_only(name: str, language: Language) -> str:
    """The refusal of 3214 aimed at a system group, e.g.

    ``"System watchlists cannot be modified: 'HK' is a system group"``.
    """
    return _SYSTEM_GROUP_READ_ONLY[language].format(name=name)


def unknown_securities(codes: Iterable[str], language: Language) -> str:
    """The refusal of a request naming securities the simulator does not know.

    For example ``"Unknown stock: HK.99999, US.NOPE"``. Beyond
    :data:`_CODES_NAMED` codes, the rest are counted rather than named
    (``"… and 4,995 more"``), so a refusal stays one readable line.
    """
    return _UNKNOWN_SECURITIES[language].format(codes=_named(codes, language))


def empty_security_list(language: Language) -> str:
    """The refusal of 3214 with no securities in ``securityList``."""
    return _EMPTY_SECURITY_LIST[language]


def unknown_modify_op(op: int, language: Language) -> str:
    """The refusal of 3214 with an ``op`` other than 1, 2 or 3."""
    return _UNKNOWN_MODIFY_OP[language].format(op=op)


def save_failed(reason: str, language: Language) -> str:
    """The refusal of 3214 when the change could not be written to the state file."""
    return _SAVE_FAILED[language].format(reason=reason)


def not_logged_in(language: Language) -> str:
    """The refusal of a quote call (3213, 3214, 3222) while the gateway is logged out.

    ``"Not logged in to the quote server, request failed."``; an assumption,
    as OpenD's own wording is not public.
    """
    return _NOT_LOGGED_IN[language]


def gateway_event_description(name: str, language: Language) -> str:
    """The ``desc`` of a gateway event named ``name`` (a ``GatewayEventType`` name)."""
    texts = _GATEWAY_EVENTS.get(name)
    if texts is None:
        return _OTHER_GATEWAY_EVENT[language].format(name=name)
    return texts[language]


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


def _named(items: Iterable[str], language: Language) -> str:
    """``items`` joined, the first :data:`_CODES_NAMED` named and the rest counted."""
    items = list(items)
    named = ", ".join(items[:_CODES_NAMED])
    if len(items) > _CODES_NAMED:
        named += _MORE_CODES[language].format(count=len(items) - _CODES_NAMED)
    return named


def subscription_quota_exceeded(
    pairs: Iterable[str], remaining: int, quota: int, language: Language
) -> str:
    """The refusal of a Qot_Sub that needs more subscription quota than remains.

    ``pairs`` are the subscriptions that would each cost a unit, as
    ``"HK.00700 QUOTE"``.
    """
    pairs = list(pairs)
    return _SUBSCRIPTION_QUOTA[language].format(
        needed=len(pairs), remaining=remaining, quota=quota, pairs=_named(pairs, language)
    )


def unsubscribe_too_soon(pairs: Iterable[str], seconds: float, language: Language) -> str:
    """The refusal of an unsubscription within ``seconds`` of the subscription."""
    return _UNSUBSCRIBE_TOO_SOON[language].format(
        seconds=f"{seconds:g}", pairs=_named(pairs, language)
    )


def not_subscribed(pairs: Iterable[str], language: Language) -> str:
    """The refusal of a quote request (or a push registration) for pairs not subscribed."""
    return _NOT_SUBSCRIBED[language].format(pairs=_named(pairs, language))


def empty_sub_types(language: Language) -> str:
    """The refusal of a Qot_Sub or Qot_RegQotPush with no ``subTypeList``."""
    return _EMPTY_SUB_TYPES[language]


def unknown_sub_types(types: Iterable[int], language: Language) -> str:
    """The refusal of a Qot_Sub or Qot_RegQotPush naming SubType values that do not exist."""
    return _UNKNOWN_SUB_TYPES[language].format(types=", ".join(map(str, types)))


def too_many_securities(count: int, limit: int, language: Language) -> str:
    """The refusal of a request naming more securities than it may (a snapshot's 400)."""
    return _TOO_MANY_SECURITIES[language].format(count=count, limit=limit)


def bad_order_book_levels(num: int, language: Language) -> str:
    """The refusal of a Qot_GetOrderBook asking for fewer than one level."""
    return _BAD_LEVELS[language].format(num=num)


def bad_count(field: str, num: int, language: Language) -> str:
    """The refusal of a request asking for fewer than one item (``reqNum``, ``maxRetNum``)."""
    return _BAD_COUNT[language].format(field=field, num=num)


def unknown_kl_type(value: int, language: Language) -> str:
    """The refusal of a Qot_GetKL naming no K-line period (``klType``)."""
    return _UNKNOWN_KL_TYPE[language].format(value=value)


def unknown_order_book_type(value: int, language: Language) -> str:
    """The refusal of a Qot_GetOrderBook naming no order-book type (``orderBookType``)."""
    return _UNKNOWN_BOOK_TYPE[language].format(value=value)


def unknown_rehab_type(value: int, language: Language) -> str:
    """The refusal of a Qot_GetKL naming no price adjustment (``rehabType``)."""
    return _UNKNOWN_REHAB_TYPE[language].format(value=value)


def broker_queue_hk_only(code: str, language: Language) -> str:
    """The refusal of a Qot_GetBroker for a security outside Hong Kong."""
    return _BROKER_QUEUE_HK_ONLY[language].format(code=code)
