"""Protobuf ⇄ model conversion: the one place that knows both shapes.

Decoding is on the hot path (a full watchlist is hundreds of entries), so the
models are built on a trusted path that skips pydantic validation: protobuf
has already typed every field, and the few things validation would add are
done here by hand (known enum values become members, absent proto2 optional
fields become ``None``). The result is indistinguishable from a validated
model: equal, equally hashable, frozen, with the same ``model_fields_set``.

Every string field reaches the models as ``str``. For a proto2 ``string``
holding bytes that are not UTF-8 the protobuf runtime returns ``bytes``; such
a value is decoded with U+FFFD (the replacement character) in place of each
undecodable byte, so the rest of the reply is still usable. Only a value that
came back as ``bytes`` is touched: valid text costs one class comparison.

The watchlist models (kept by the thousand: a bot keeps its watchlists) get
their fields one attribute at a time rather than as a ``__dict__`` where
the interpreter then keeps them inline in the object (CPython 3.11 and
3.12, for pydantic's models; :func:`_fields_stay_inline` asks): no dict
object exists until something asks for ``__dict__`` (equality, hashing,
pickling, ``model_dump`` do, and CPython builds it then, once). A dict
holding models or enum members is tracked by the cyclic GC: inline, each
model is one tracked object instead of two, and a watchlist entry about
three instead of six, which halves what every full collection of a
process that keeps watchlists has to scan. Reading a field is the same
attribute lookup either way. Elsewhere (3.13 makes the dict at the first
attribute) the dict is set at once, as it always was.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from .._base.args import is_plain_text
from .._base.errors import InvalidArgumentError, ProtocolError
from .._base.text import wire_text
from .._opend.vocabulary import Market, OptionType, SecurityType, WarrantType
from .._pb import Qot_Common_pb2, Qot_GetUserSecurityGroup_pb2
from .groups import WatchlistGroup
from .watchlist import (
    FutureStaticExData,
    OptionStaticExData,
    Security,
    SecurityStaticBasic,
    SecurityStaticInfo,
    WarrantStaticExData,
)

__all__ = [
    "security_from_pb",
    "security_to_pb",
    "static_info_from_pb",
    "static_infos_from_pb",
    "watchlist_groups_from_pb",
]

_M = TypeVar("_M", bound=BaseModel)

_new = object.__new__
# Sets one field past the frozen __setattr__ (inline where _fields_stay_inline).
_put = object.__setattr__
# BaseModel declares these four in __slots__; calling their descriptors'
# __set__ directly is the cheapest way past the frozen __setattr__.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


_FIELDS_SETS: dict[type[BaseModel], set[str]] = {}


def _fields_set(cls: type[BaseModel]) -> set[str]:
    """The one fields set every trusted instance of ``cls`` shares.

    Every field is given, so every field counts as set, as after
    validation. The instances of a class share one set: the models are
    frozen, so pydantic never adds to it (``model_copy`` copies it first),
    and a set per instance would be one more object for the cyclic GC to
    track, three per watchlist entry.
    """
    return _FIELDS_SETS.setdefault(cls, set(cls.model_fields))


def _trusted(
    cls: type[_M], fill: Callable[[BaseModel, dict[str, Any]], None] = _set_dict
) -> Callable[[dict[str, Any]], _M]:
    """A builder of ``cls`` from already-typed values, skipping validation.

    It does what ``model_construct`` does, minus the per-field alias and
    default handling these models do not need. The values must name every
    field of ``cls``, in declaration order (the tests check this), so the
    instance matches one validated from the same values. One builder per
    class keeps the class and its field names out of the per-call work.
    ``fill`` gives the new model its fields: as its dict, or :data:`_fill`.
    """
    fields = _fields_set(cls)

    def build(values: dict[str, Any]) -> _M:
        model = _new(cls)
        fill(model, values)
        _set_fields_set(model, fields)
        _set_extra(model, None)
        _set_private(model, None)
        return model

    return build


def _fill_one_by_one(model: BaseModel, values: dict[str, Any]) -> None:
    for name, value in values.items():
        _put(model, name, value)


def _fields_stay_inline() -> bool:
    """Whether fields set one by one stay inline here, with no dict (see the module docstring)."""
    probe = _new(WarrantStaticExData)
    _put(probe, "type", WarrantType.CALL)  # an enum member: a dict holding it is tracked
    return not any(part.__class__ is dict for part in gc.get_referents(probe))


#: Whether watchlist models get their fields one by one (see the module docstring).
_INLINE = _fields_stay_inline()
#: Gives a new model its fields: one by one where they stay inline, else as its dict.
_fill: Callable[[BaseModel, dict[str, Any]], None] = _fill_one_by_one if _INLINE else _set_dict


def _require(pb: Any, path: str) -> None:
    """Raise :class:`ProtocolError` if ``pb`` lacks a proto2 ``required`` field.

    Parsing does not check required fields, and ``IsInitialized`` on a whole
    reply costs more than reading it (about 0.3 µs per entry). So the
    converters check the values they read anyway: a required field whose
    value is not its default was on the wire. Only when one reads as its
    default (``0``, ``""``, ``False``) is the message itself asked.
    """
    if not pb.IsInitialized():
        # FindInitializationErrors exists on every runtime but not in the stubs.
        missing = ", ".join(path + name for name in pb.FindInitializationErrors())
        raise ProtocolError(f"watchlist entry lacks required fields: {missing}")


# Not inline: a Security alone is mostly a quote's, whose own dict is tracked anyway.
_security = _trusted(Security)
# The underlying of a warrant or option, kept with its watchlist entry.
_owner = _trusted(Security, _fill)
_warrant = _trusted(WarrantStaticExData, _fill)
_option = _trusted(OptionStaticExData, _fill)
_future = _trusted(FutureStaticExData, _fill)
# What static_info_from_pb, which builds its three models inline, sets as
# their fields sets (the same sets the builders above share).
_SECURITY_FIELDS = _fields_set(Security)
_BASIC_FIELDS = _fields_set(SecurityStaticBasic)
_STATIC_INFO_FIELDS = _fields_set(SecurityStaticInfo)


# Bound ``dict.get`` of value → member: ``_market(v, v)`` is the member, or ``v``
# itself when this version does not know it. Cheaper than a classmethod call.
_market = Market._value2member_map_.get
_sec_type = SecurityType._value2member_map_.get
_warrant_type = WarrantType._value2member_map_.get
_option_type = OptionType._value2member_map_.get


def security_from_pb(
    pb: Qot_Common_pb2.Security, build: Callable[[dict[str, Any]], Security] = _security
) -> Security:
    """Convert a ``Qot_Common.Security`` message (``build``: ``_owner`` for extra data, inline)."""
    market = pb.market
    code = pb.code
    if code.__class__ is not str:
        code = wire_text(code)
    return build({"market": _market(market, market), "code": code})


def security_to_pb(security: Security) -> Qot_Common_pb2.Security:
    """Convert a :class:`Security` to a ``Qot_Common.Security`` message.

    Raises:
        InvalidArgumentError: the code cannot be sent (not plain text, e.g.
            a lone surrogate), or the market is out of range.
    """
    code = security.code
    if not is_plain_text(code):
        raise InvalidArgumentError(
            f"security code {code!r} contains a control character or a lone surrogate"
        )
    try:
        return Qot_Common_pb2.Security(market=int(security.market), code=code)
    except ValueError as exc:  # an int32 out of range
        raise InvalidArgumentError(f"cannot send security {security!r}: {exc}") from None


#: Underlyings already built, by (market, code): the warrants and options of one
#: underlying share its one immutable Security (one tracked object, not one each).
_OWNERS: dict[tuple[int, str], Security] = {}
#: Past this many the table is emptied (a dict lookup stays cheap; nothing grows unbounded).
_OWNERS_MAX = 1024


def _owner_of(pb: Qot_Common_pb2.Security) -> Security:
    """The underlying named by ``pb``: the one already built for it, or a new one (kept)."""
    key = (pb.market, pb.code)
    owner = _OWNERS.get(key)
    if owner is None:
        owner = security_from_pb(pb, _owner)
        if len(_OWNERS) >= _OWNERS_MAX:
            _OWNERS.clear()
        _OWNERS[key] = owner
    return owner


def _warrant_from_pb(pb: Qot_Common_pb2.WarrantStaticExData) -> WarrantStaticExData:
    kind = pb.type
    owner = pb.owner
    if not (kind and owner.market and owner.code):
        _require(pb, "warrantExData.")
    return _warrant({"type": _warrant_type(kind, kind), "owner": _owner_of(owner)})


def _option_from_pb(pb: Qot_Common_pb2.OptionStaticExData) -> OptionStaticExData:
    _require(pb, "optionExData.")  # rare, and its required bool is usually False
    has = pb.HasField
    kind = pb.type
    strike_time = pb.strikeTime
    market = pb.market
    if strike_time.__class__ is not str or market.__class__ is not str:
        strike_time, market = wire_text(strike_time), wire_text(market)
    return _option(
        {
            "type": _option_type(kind, kind),
            "owner": _owner_of(pb.owner),
            "strike_time": strike_time,
            "strike_price": pb.strikePrice,
            "suspend": pb.suspend,
            "market": market,
            "strike_timestamp": pb.strikeTimestamp if has("strikeTimestamp") else None,
            "index_option_type": pb.indexOptionType if has("indexOptionType") else None,
            "expiration_cycle": pb.expirationCycle if has("expirationCycle") else None,
            "option_standard_type": (pb.optionStandardType if has("optionStandardType") else None),
            "option_settlement_mode": (
                pb.optionSettlementMode if has("optionSettlementMode") else None
            ),
        },
    )


def _future_from_pb(pb: Qot_Common_pb2.FutureStaticExData) -> FutureStaticExData:
    _require(pb, "futureExData.")  # rare, and its required bool is usually False
    last_trade_time = pb.lastTradeTime
    if last_trade_time.__class__ is not str:
        last_trade_time = wire_text(last_trade_time)
    return _future(
        {
            "last_trade_time": last_trade_time,
            "last_trade_timestamp": (
                pb.lastTradeTimestamp if pb.HasField("lastTradeTimestamp") else None
            ),
            "is_main_contract": pb.isMainContract,
        },
    )


def static_info_from_pb(pb: Qot_Common_pb2.SecurityStaticInfo) -> SecurityStaticInfo:
    """Convert one ``Qot_Common.SecurityStaticInfo`` (a watchlist entry).

    Absent optional fields become ``None``; enum values this version does not
    know are kept as ``int``.

    Raises:
        ProtocolError: a proto2 ``required`` field is absent (parsing alone
            does not check them).
    """
    # This runs once per new watchlist entry, so it is one function: the
    # basic part and the three builders (see _trusted) are written out here,
    # which saves five Python calls per entry (about 0.3 µs, measured).
    basic = pb.basic
    security = basic.security
    market = security.market
    code = security.code
    sec_type = basic.secType
    name = basic.name
    list_time = basic.listTime
    basic_id = basic.id
    lot_size = basic.lotSize
    if not (market and code and basic_id and lot_size and sec_type and name and list_time):
        _require(basic, "basic.")  # a value is its default: was it sent?
    # Not UTF-8 on the wire: protobuf gave bytes (see the module docstring).
    if code.__class__ is not str or name.__class__ is not str or list_time.__class__ is not str:
        code, name, list_time = wire_text(code), wire_text(name), wire_text(list_time)
    # An optional field whose value is not its default was sent: only a
    # default value needs HasField (about 0.1 µs a call) to tell absent
    # from sent.
    delisting: bool | None = basic.delisting
    if not delisting and not basic.HasField("delisting"):
        delisting = None
    list_timestamp: float | None = basic.listTimestamp
    if not list_timestamp and not basic.HasField("listTimestamp"):
        list_timestamp = None
    exch_type: int | None = basic.exchType
    if not exch_type and not basic.HasField("exchType"):
        exch_type = None
    has = pb.HasField
    # The three models written out (see _trusted), fields in declaration order;
    # inline, one _put per field: _fill's loop would cost ~0.9 µs an entry more.
    security_model = _new(Security)
    basic_model = _new(SecurityStaticBasic)
    info = _new(SecurityStaticInfo)
    market_value = _market(market, market)
    sec_type_value = _sec_type(sec_type, sec_type)
    warrant = _warrant_from_pb(pb.warrantExData) if has("warrantExData") else None
    option = _option_from_pb(pb.optionExData) if has("optionExData") else None
    future = _future_from_pb(pb.futureExData) if has("futureExData") else None
    if _INLINE:
        _put(security_model, "market", market_value)
        _put(security_model, "code", code)
        _put(basic_model, "security", security_model)
        _put(basic_model, "id", basic_id)
        _put(basic_model, "lot_size", lot_size)
        _put(basic_model, "sec_type", sec_type_value)
        _put(basic_model, "name", name)
        _put(basic_model, "list_time", list_time)
        _put(basic_model, "delisting", delisting)
        _put(basic_model, "list_timestamp", list_timestamp)
        _put(basic_model, "exch_type", exch_type)
        _put(info, "basic", basic_model)
        _put(info, "warrant_ex_data", warrant)
        _put(info, "option_ex_data", option)
        _put(info, "future_ex_data", future)
    else:
        _set_dict(security_model, {"market": market_value, "code": code})
        _set_dict(
            basic_model,
            {
                "security": security_model,
                "id": basic_id,
                "lot_size": lot_size,
                "sec_type": sec_type_value,
                "name": name,
                "list_time": list_time,
                "delisting": delisting,
                "list_timestamp": list_timestamp,
                "exch_type": exch_type,
            },
        )
        _set_dict(
            info,
            {
                "basic": basic_model,
                "warrant_ex_data": warrant,
                "option_ex_data": option,
                "future_ex_data": future,
            },
        )
    _set_fields_set(security_model, _SECURITY_FIELDS)
    _set_extra(security_model, None)
    _set_private(security_model, None)
    _set_fields_set(basic_model, _BASIC_FIELDS)
    _set_extra(basic_model, None)
    _set_private(basic_model, None)
    _set_fields_set(info, _STATIC_INFO_FIELDS)
    _set_extra(info, None)
    _set_private(info, None)
    return info


def static_infos_from_pb(
    pbs: Iterable[Qot_Common_pb2.SecurityStaticInfo],
) -> list[SecurityStaticInfo]:
    """Convert a list of ``SecurityStaticInfo`` messages, e.g. ``S2C.staticInfoList``."""
    return [static_info_from_pb(pb) for pb in pbs]


def watchlist_groups_from_pb(
    groups: Iterable[Qot_GetUserSecurityGroup_pb2.GroupData],
) -> list[WatchlistGroup]:
    """Convert ``S2C.groupList`` of a protocol 3222 reply (names always ``str``)."""
    return [
        WatchlistGroup(name=wire_text(group.groupName), type=group.groupType) for group in groups
    ]
