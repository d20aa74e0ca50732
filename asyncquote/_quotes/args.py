"""Checking the live-quote methods' arguments: codes, subscription types, depths, names.

Every check raises :class:`~asyncquote.InvalidArgumentError` naming the
argument, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._base.args import check_duration, check_int, check_text
from .._base.errors import InvalidArgumentError
from .._models.watchlist import Security
from .._opend.quotes import ORDER_BOOK_SUB_TYPES, PUSH_SUB_TYPES, OrderBookType, Session, SubType
from .._opend.vocabulary import SecurityKey
from .market_data_pushes import MARKET_DATA_SUB_TYPES

__all__ = [
    "MAX_ORDER_BOOK_LEVELS",
    "STREAMED_SUB_TYPES",
    "check_code",
    "check_codes",
    "check_levels",
    "check_order_book_type",
    "check_session",
    "check_stream_name",
    "check_stream_options",
    "check_sub_types",
]

#: The subscription types whose pushes every stream delivers (``subscribe()``'s,
#: a followed group's, the CLI's), in the protocol's order: every kind but ``NONE``.
STREAMED_SUB_TYPES = tuple(
    kind
    for kind in SubType
    if kind in PUSH_SUB_TYPES.values()
    or kind in ORDER_BOOK_SUB_TYPES.values()
    or kind in MARKET_DATA_SUB_TYPES
)

#: Most order-book levels a side OpenD gives (40 with SF quote rights; LV2 gets 10).
MAX_ORDER_BOOK_LEVELS = 40


def check_code(name: str, code: object) -> SecurityKey:
    """One security: a :class:`Security` or a code string such as ``"HK.00700"``."""
    if isinstance(code, Security):
        return (int(code.market), code.code)
    if isinstance(code, str):
        security = Security.parse(code)
        return (int(security.market), security.code)
    raise InvalidArgumentError(
        f"{name} must be a Security or a code like 'HK.00700', not {type(code).__name__} {code!r}"
    )


def check_codes(codes: object, name: str = "codes") -> list[SecurityKey]:
    """A non-empty list of securities, each once, in the order first given."""
    if isinstance(codes, (str, Security)):
        raise InvalidArgumentError(
            f"{name} must be a list of codes like ['HK.00700'] or Security objects, "
            f"not a single {type(codes).__name__}"
        )
    if not isinstance(codes, Iterable):
        raise InvalidArgumentError(f"{name} must be a list of codes, not {type(codes).__name__}")
    keys = list(dict.fromkeys(check_code(f"each of {name}", code) for code in codes))
    if not keys:
        raise InvalidArgumentError(f"{name} must not be empty")
    return keys


def check_sub_types(sub_types: object, *, streamed_only: bool = False) -> list[SubType]:
    """A non-empty list of subscription types (any but ``NONE``), each once.

    Any kind may be subscribed, unless ``streamed_only``: then only
    :data:`STREAMED_SUB_TYPES` (for ``follow_user_security``, whose
    subscriptions are for its stream only), which today is every kind.
    """
    if isinstance(sub_types, (int, str)) or not isinstance(sub_types, Iterable):
        raise InvalidArgumentError(
            "sub_types must be a list such as [SubType.QUOTE, SubType.ORDER_BOOK], "
            f"not {sub_types!r}"
        )
    checked: dict[SubType, None] = {}
    for sub_type in sub_types:
        member = (
            None
            if isinstance(sub_type, bool) or not isinstance(sub_type, int)
            else SubType.from_value(sub_type)
        )
        if not isinstance(member, SubType) or member is SubType.NONE:
            raise InvalidArgumentError(f"unknown subscription type {sub_type!r}; use SubType")
        if streamed_only and member not in STREAMED_SUB_TYPES:
            raise InvalidArgumentError(
                f"subscription type {member.name} is not delivered by streams (its pushes "
                f"are not routed yet); use {', '.join(t.name for t in STREAMED_SUB_TYPES)}"
            )
        checked[member] = None
    if not checked:
        raise InvalidArgumentError("sub_types must not be empty")
    return list(checked)


def check_stream_name(name: object) -> str | None:
    """``None`` or a non-empty plain-text name."""
    checked = check_text("name", name, optional=True)
    if checked == "":
        raise InvalidArgumentError("name must not be empty")
    return checked


def check_stream_options(name: object, buffer: object, timeout: object) -> str | None:
    """A stream's name (see :func:`check_stream_name`), buffer size (>= 1) and request
    timeout (``None`` or seconds > 0); the name is returned."""
    label = check_stream_name(name)
    check_int("buffer", buffer, minimum=1)
    if timeout is not None:
        check_duration("timeout", timeout, positive=True)
    return label


def check_levels(num: object) -> int:
    """Order-book levels a side: 1 to :data:`MAX_ORDER_BOOK_LEVELS`."""
    return check_int("num", num, minimum=1, maximum=MAX_ORDER_BOOK_LEVELS)


def check_order_book_type(order_book_type: object) -> OrderBookType:
    """An :class:`OrderBookType`, or the SDK's name of one (``"NORMAL"``, ``"ODD"``)."""
    if isinstance(order_book_type, OrderBookType):
        return order_book_type
    if isinstance(order_book_type, str):
        member = OrderBookType.__members__.get(order_book_type)
        if member is not None:
            return member
    raise InvalidArgumentError(
        "order_book_type must be OrderBookType.NORMAL or OrderBookType.ODD "
        f"(or 'NORMAL', 'ODD'), not {order_book_type!r}"
    )


def check_session(session: object) -> Session:
    """A :class:`Session`, or the SDK's name of one (``"RTH"``... ``"N/A"``)."""
    if isinstance(session, Session):
        return session
    for member in Session:
        if session == member.sdk_name and isinstance(session, str):
            return member
    raise InvalidArgumentError(
        "session must be Session.RTH, Session.ETH, Session.ALL, Session.OVERNIGHT or "
        f"Session.NONE (or the SDK's names), not {session!r}"
    )
