"""The OpenD vocabulary: code strings, the quota merge rule, group names, one definition each."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

import pytest

import asyncquote
import asyncquote._client.ratelimit
import asyncquote._models.groups
import asyncquote._models.watchlist
import asyncquote._opend.codec
import asyncquote.sim
import asyncquote.sim._dispatch
import asyncquote.sim._handlers
import asyncquote.sim._quotas
import asyncquote.sim._texts
import asyncquote.sim._watchlists
from asyncquote._base.errors import InvalidArgumentError
from asyncquote._client.ratelimit import RateLimiter
from asyncquote._opend import vocabulary as _opend
from asyncquote._opend.quotes import (
    KLINE_SUB_TYPES,
    MAX_SNAPSHOT_SECURITIES,
    MIN_SUBSCRIPTION_SECONDS,
    PUSH_SUB_TYPES,
    AssetClass,
    AuType,
    DarkStatus,
    IndexOptionType,
    KLType,
    OptionAreaType,
    OrderBookType,
    PriceType,
    PushDataType,
    SecurityStatus,
    SubType,
    TickerDirect,
    TickerType,
)
from asyncquote._opend.vocabulary import (
    DEFAULT_QUOTAS,
    MARKET_BY_PREFIX,
    NO_QUOTAS,
    PREFIX_BY_MARKET,
    PUSH_PROTO_IDS,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    SYSTEM_GROUP_NAMES,
    UNQUERYABLE_GROUP_NAMES,
    UNQUERYABLE_GROUPS,
    CodeError,
    GroupType,
    Market,
    ModifyOp,
    OptionType,
    ProtoId,
    Quota,
    RetType,
    SecurityType,
    SystemGroup,
    WarrantType,
    canonical_group_name,
    format_code,
    merge_quotas,
    parse_code,
    system_group,
)
from asyncquote._pb import (
    Common_pb2,
    Qot_Common_pb2,
    Qot_GetUserSecurityGroup_pb2,
    Qot_ModifyUserSecurity_pb2,
)

# --- code strings ------------------------------------------------------------


@pytest.mark.parametrize("market", [m for m in Market if m is not Market.NONE])
def test_every_market_round_trips_through_its_code_string(market: Market) -> None:
    text = f"{market.name}.X1"
    parsed = parse_code(text)
    assert parsed == (market, "X1")
    assert type(parsed[0]) is Market
    assert format_code(parsed) == text
    assert format_code((int(market), "X1")) == text  # a raw int prints the same


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("HK.00700", (Market.HK, "00700")),
        ("US.BRK.B", (Market.US, "BRK.B")),  # only the first "." splits
        ("HK.HSImain", (Market.HK, "HSImain")),  # the code is kept verbatim
        ("HK_FUTURE.999010", (Market.HK_FUTURE, "999010")),
    ],
)
def test_parse_code_splits_at_the_first_dot_and_keeps_the_code(
    text: str, key: tuple[Market, str]
) -> None:
    assert parse_code(text) == key
    assert format_code(parse_code(text)) == text


def test_the_prefix_case_is_the_sdks_unless_ignore_case() -> None:
    with pytest.raises(CodeError, match="unknown market prefix 'hk'"):
        parse_code("hk.00700")
    assert parse_code("hk.00700", ignore_case=True) == (Market.HK, "00700")
    assert parse_code("Us.aapl", ignore_case=True) == (Market.US, "aapl")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("00700", "has no market prefix"),
        (".00700", "has no market prefix"),
        ("HK.", "has an empty code"),
        ("XX.00700", "has unknown market prefix 'XX'"),
        ("N/A.00700", "has unknown market prefix"),  # printed, never parsed
        ("NONE.00700", "has unknown market prefix"),
        ("1.00700", "has unknown market prefix"),
    ],
)
def test_malformed_codes_raise_a_value_error_saying_why(text: str, reason: str) -> None:
    with pytest.raises(CodeError) as info:
        parse_code(text, ignore_case=True)
    assert isinstance(info.value, ValueError)
    assert info.value.reason.startswith(reason)
    assert info.value.text == text
    assert str(info.value).startswith(f"not a security code: {text!r}")


@pytest.mark.parametrize("market", [0, 999, -1])
def test_unknown_markets_print_as_na_and_survive_as_ints(market: int) -> None:
    assert format_code((market, "X")) == "N/A.X"
    assert Market.sdk_name_of(market) == "N/A"
    if market != 0:
        assert Market.from_value(market) == market
        assert type(Market.from_value(market)) is int


def test_the_prefix_tables_are_each_others_inverse() -> None:
    assert set(MARKET_BY_PREFIX.values()) == set(Market) - {Market.NONE}
    for prefix, market in MARKET_BY_PREFIX.items():
        assert PREFIX_BY_MARKET[market] == prefix
    assert PREFIX_BY_MARKET[0] == "N/A"


@pytest.mark.parametrize(
    ("ours", "proto_enum", "skip_unknown"),
    [
        (Market, Qot_Common_pb2.QotMarket, False),
        (SecurityType, Qot_Common_pb2.SecurityType, False),
        (WarrantType, Qot_Common_pb2.WarrantType, False),
        (OptionType, Qot_Common_pb2.OptionType, False),
        (RetType, Common_pb2.RetType, False),
        (GroupType, Qot_GetUserSecurityGroup_pb2.GroupType, True),
        (ModifyOp, Qot_ModifyUserSecurity_pb2.ModifyUserSecurityOp, True),
        (SubType, Qot_Common_pb2.SubType, False),
        (DarkStatus, Qot_Common_pb2.DarkStatus, False),
        (SecurityStatus, Qot_Common_pb2.SecurityStatus, False),
        (OrderBookType, Qot_Common_pb2.OrderBookType, False),
        (IndexOptionType, Qot_Common_pb2.IndexOptionType, False),
        (OptionAreaType, Qot_Common_pb2.OptionAreaType, False),
        (PriceType, Qot_Common_pb2.PriceType, False),
        (AssetClass, Qot_Common_pb2.AssetClass, False),
        (KLType, Qot_Common_pb2.KLType, False),
        (AuType, Qot_Common_pb2.RehabType, False),
        (TickerDirect, Qot_Common_pb2.TickerDirection, False),
        (TickerType, Qot_Common_pb2.TickerType, False),
        (PushDataType, Qot_Common_pb2.PushDataType, False),
    ],
)
def test_enumerations_number_values_as_the_protos_do(
    ours: Any, proto_enum: Any, skip_unknown: bool
) -> None:
    numbers = {value.number for value in proto_enum.DESCRIPTOR.values}
    if skip_unknown:
        numbers.discard(0)
    assert {member.value for member in ours} == numbers


# --- protocols -----------------------------------------------------------------


def test_every_protocol_has_a_response_type_and_every_request_a_protocol() -> None:
    assert set(RESPONSE_TYPES) == set(ProtoId)
    pushes = {ProtoId.NOTIFY, ProtoId.UPDATE_BASIC_QOT, ProtoId.UPDATE_ORDER_BOOK}
    pushes |= {ProtoId.UPDATE_TICKER, ProtoId.UPDATE_RT, ProtoId.UPDATE_KL, ProtoId.UPDATE_BROKER}
    assert pushes == PUSH_PROTO_IDS
    assert set(REQUEST_TYPES) == set(ProtoId) - PUSH_PROTO_IDS  # pushes have no request
    for proto_id in REQUEST_TYPES:
        request = REQUEST_TYPES[proto_id].DESCRIPTOR.full_name
        response = RESPONSE_TYPES[proto_id].DESCRIPTOR.full_name
        assert request.rsplit(".", 1)[0] == response.rsplit(".", 1)[0]


@pytest.mark.parametrize(
    ("proto_id", "package"),
    [
        (3001, "Qot_Sub"),
        (3002, "Qot_RegQotPush"),
        (3003, "Qot_GetSubInfo"),
        (3004, "Qot_GetBasicQot"),
        (3005, "Qot_UpdateBasicQot"),
        (3006, "Qot_GetKL"),
        (3007, "Qot_UpdateKL"),
        (3008, "Qot_GetRT"),
        (3009, "Qot_UpdateRT"),
        (3010, "Qot_GetTicker"),
        (3011, "Qot_UpdateTicker"),
        (3012, "Qot_GetOrderBook"),
        (3013, "Qot_UpdateOrderBook"),
        (3014, "Qot_GetBroker"),
        (3015, "Qot_UpdateBroker"),
        (3203, "Qot_GetSecuritySnapshot"),
    ],
)
def test_the_quote_protocols_travel_under_their_documented_ids(proto_id: int, package: str) -> None:
    assert RESPONSE_TYPES[proto_id].DESCRIPTOR.full_name == f"{package}.Response"
    if proto_id not in PUSH_PROTO_IDS:
        assert REQUEST_TYPES[proto_id].DESCRIPTOR.full_name == f"{package}.Request"


def test_the_sdk_names_of_subscription_kinds_with_the_protocols_values() -> None:
    assert (SubType.QUOTE, SubType.ORDER_BOOK, SubType.TICKER, SubType.RT_DATA) == (1, 2, 4, 5)
    assert (SubType.K_DAY, SubType.K_1M, SubType.BROKER, SubType.ORDER_BOOK_ODD) == (6, 11, 14, 22)
    assert SubType.from_value(3) == 3
    assert type(SubType.from_value(3)) is int
    assert SubType.sdk_name_of(0) == "N/A"
    assert PUSH_SUB_TYPES == {3005: SubType.QUOTE, 3013: SubType.ORDER_BOOK}


def test_each_kline_period_has_its_subscription_kind_though_numbered_apart() -> None:
    assert KLType.K_1M == 1
    assert SubType.K_1M == 11
    assert KLINE_SUB_TYPES[KLType.K_1M] is SubType.K_1M
    assert KLINE_SUB_TYPES[KLType.K_DAY] is SubType.K_DAY
    assert KLINE_SUB_TYPES[KLType.K_QUARTER] is SubType.K_QUARTER
    assert KLType.NONE not in KLINE_SUB_TYPES
    kline_kinds = {SubType(n) for n in [*range(6, 14), *range(15, 22)]}
    assert set(KLINE_SUB_TYPES.values()) == kline_kinds
    assert len(KLINE_SUB_TYPES) == len(kline_kinds) == 15


def test_the_sdk_names_of_price_adjustments_are_its_strings() -> None:
    assert [a.sdk_name for a in AuType] == ["None", "qfq", "hfq"]
    assert AuType.sdk_name_of(1) == "qfq"
    assert AuType.sdk_name_of(7) == "N/A"
    assert TickerType.sdk_name_of(0) == "UNKNOWN"
    assert TickerDirect.sdk_name_of(1) == "BUY"


def test_the_subscription_and_snapshot_limits() -> None:
    assert MIN_SUBSCRIPTION_SECONDS == 60.0
    assert MAX_SNAPSHOT_SECURITIES == 400


def test_the_simulators_ret_type_constants_are_the_vocabularys_as_plain_ints() -> None:
    texts = asyncquote.sim._texts
    pairs = [
        (texts.RET_OK, RetType.OK),
        (texts.RET_FAILED, RetType.FAILED),
        (texts.RET_UNKNOWN, RetType.UNKNOWN),
        (texts.RET_INVALID, RetType.INVALID),
    ]
    for constant, member in pairs:
        assert constant == member
        assert type(constant) is int


# --- quotas --------------------------------------------------------------------


def test_opend_allows_10_requests_per_30_seconds_on_the_watchlist_protocols() -> None:
    watchlists = dict.fromkeys((3213, 3214, 3222), Quota(10, 30.0))
    assert dict(DEFAULT_QUOTAS) == {**watchlists, 3203: Quota(60, 30.0)}  # and 60 snapshots
    assert dict(NO_QUOTAS) == dict.fromkeys((3203, 3213, 3214, 3222))


def test_the_defaults_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        DEFAULT_QUOTAS[3213] = Quota(1, 1.0)  # type: ignore[index]


def test_merge_rule_a_quota_replaces_or_adds_and_none_turns_one_off() -> None:
    merged = merge_quotas({3213: Quota(5, 2.0), 3222: None, 1002: Quota(1, 1.0)})
    assert merged == {
        3203: DEFAULT_QUOTAS[3203],
        3213: Quota(5, 2.0),
        3214: DEFAULT_QUOTAS[3214],
        1002: Quota(1, 1.0),
    }
    assert merge_quotas() == merge_quotas(None) == merge_quotas({}) == dict(DEFAULT_QUOTAS)
    assert merge_quotas(NO_QUOTAS) == {}
    assert merge_quotas({9999: None}) == dict(DEFAULT_QUOTAS)  # off, though never on
    assert merge_quotas() is not merge_quotas()  # a fresh dict each time


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([(3213, None)], "must be a mapping"),
        ({"3213": Quota(1, 1.0)}, "protocol ids"),
        ({True: Quota(1, 1.0)}, "protocol ids"),
        ({-1: Quota(1, 1.0)}, "protocol id must be from"),
        ({2**32: Quota(1, 1.0)}, "protocol id must be from"),
        ({3213: (10, 30)}, "must be a Quota or None"),
    ],
)
def test_merge_rule_refuses_malformed_overrides(overrides: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as info:
        merge_quotas(overrides)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, ValueError)


def test_the_client_and_the_simulator_merge_by_the_same_rule() -> None:
    overrides: dict[int, Quota | None] = {3213: None, 3214: Quota(3, 1.0)}
    limiter = RateLimiter(overrides)
    ledger = asyncquote.sim._quotas.QuotaLedger(asyncquote.sim._quotas.merge_quotas(overrides))
    merged = merge_quotas(overrides)
    for proto_id in (3213, 3214, 3222, 1002):
        assert limiter.quota_for(proto_id) == merged.get(proto_id)
        assert ledger.quotas.get(proto_id) == merged.get(proto_id)


# --- watchlist groups ----------------------------------------------------------


@pytest.mark.parametrize("group", list(SystemGroup))
def test_system_groups_answer_to_either_name(group: SystemGroup) -> None:
    assert SYSTEM_GROUP_NAMES[group.value] == group.english
    for name in (group.value, group.english):
        assert system_group(name) is group
        assert canonical_group_name(name) == group.value


@pytest.mark.parametrize(("chinese", "english"), list(UNQUERYABLE_GROUP_NAMES.items()))
def test_unqueryable_groups_have_two_names_but_no_system_group(chinese: str, english: str) -> None:
    assert chinese in UNQUERYABLE_GROUPS
    assert SYSTEM_GROUP_NAMES[chinese] == english
    assert canonical_group_name(english) == canonical_group_name(chinese) == chinese
    assert system_group(chinese) is None
    assert system_group(english) is None


def test_system_groups_are_listed_in_opends_order_queryable_first() -> None:
    assert list(SYSTEM_GROUP_NAMES) == [
        *(group.value for group in SystemGroup),
        *UNQUERYABLE_GROUP_NAMES,
    ]
    assert len(set(SYSTEM_GROUP_NAMES.values())) == len(SYSTEM_GROUP_NAMES) == 12
    # No English name is another group's Chinese name, so the lookups cannot clash.
    assert not set(SYSTEM_GROUP_NAMES) & set(SYSTEM_GROUP_NAMES.values())


@pytest.mark.parametrize("name", ["Tech", "hk", "all", "港股 ", ""])
def test_other_names_are_their_own_key(name: str) -> None:
    assert canonical_group_name(name) == name
    assert system_group(name) is None


# --- one definition, shared by the client and the simulator -----------------------


@pytest.mark.parametrize(
    ("where", "name", "vocabulary"),
    [
        (asyncquote, "GroupType", "GroupType"),
        (asyncquote, "ModifyOp", "ModifyOp"),
        (asyncquote, "SystemGroup", "SystemGroup"),
        (asyncquote, "Market", "Market"),
        (asyncquote, "SecurityType", "SecurityType"),
        (asyncquote, "WarrantType", "WarrantType"),
        (asyncquote, "OptionType", "OptionType"),
        (asyncquote, "Quota", "Quota"),
        (asyncquote, "DEFAULT_QUOTAS", "DEFAULT_QUOTAS"),
        (asyncquote._models.groups, "GroupType", "GroupType"),
        (asyncquote._models.groups, "ModifyOp", "ModifyOp"),
        (asyncquote._models.groups, "SystemGroup", "SystemGroup"),
        (asyncquote._models.groups, "system_group", "system_group"),
        (asyncquote._models.groups, "group_key", "canonical_group_name"),
        (asyncquote._models.watchlist, "Market", "Market"),
        (asyncquote._opend.codec, "ProtoId", "ProtoId"),
        (asyncquote._opend.codec, "REQUEST_TYPES", "REQUEST_TYPES"),
        (asyncquote._opend.codec, "RESPONSE_TYPES", "RESPONSE_TYPES"),
        (asyncquote._client.ratelimit, "DEFAULT_QUOTAS", "DEFAULT_QUOTAS"),
        (asyncquote._client.ratelimit, "Quota", "Quota"),
        (asyncquote.sim, "GroupType", "GroupType"),
        (asyncquote.sim, "ModifyOp", "ModifyOp"),
        (asyncquote.sim, "Quota", "Quota"),
        (asyncquote.sim, "OPEND_QUOTAS", "DEFAULT_QUOTAS"),
        (asyncquote.sim, "NO_QUOTAS", "NO_QUOTAS"),
        (asyncquote.sim, "SYSTEM_GROUP_NAMES", "SYSTEM_GROUP_NAMES"),
        (asyncquote.sim, "parse_code", "parse_code"),
        (asyncquote.sim, "format_code", "format_code"),
        (asyncquote.sim._quotas, "merge_quotas", "merge_quotas"),
        (asyncquote.sim._watchlists, "UNQUERYABLE_GROUPS", "UNQUERYABLE_GROUPS"),
        (asyncquote.sim._watchlists, "canonical_group_name", "canonical_group_name"),
        (asyncquote.sim._watchlists, "SecurityKey", "SecurityKey"),
        (asyncquote.sim._handlers, "ProtoId", "ProtoId"),
        (asyncquote.sim._dispatch, "RESPONSE_TYPES", "RESPONSE_TYPES"),
    ],
)
def test_the_client_and_the_simulator_use_the_very_same_objects(
    where: ModuleType, name: str, vocabulary: str
) -> None:
    assert getattr(where, name) is getattr(_opend, vocabulary)


def _package_modules() -> list[ModuleType]:
    names = [
        info.name
        for info in pkgutil.walk_packages(asyncquote.__path__, "asyncquote.")
        if "._pb" not in info.name and info.name != "asyncquote.__main__"
    ]
    return [importlib.import_module(name) for name in names]


def test_no_module_defines_a_vocabulary_name_a_second_time() -> None:
    for module in _package_modules():
        for name in _opend.__all__:
            # vars, not hasattr: the folders answer old names through __getattr__.
            if module is not _opend and name in vars(module):
                assert vars(module)[name] is getattr(_opend, name), f"{module.__name__}.{name}"


def test_the_simulators_routes_parse_the_vocabularys_request_types() -> None:
    routes = asyncquote.sim._handlers.default_routes()
    for proto_id, route in routes.items():
        assert route.request_type is REQUEST_TYPES[proto_id]
    # The simulator serves every request of the vocabulary.
    assert set(REQUEST_TYPES) - set(routes) == set()
    assert [p for p, route in routes.items() if not route.needs_init] == [ProtoId.INIT_CONNECT]
