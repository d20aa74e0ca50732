"""Models: enums and their SDK names, Security text form, immutability, unknown values."""

from __future__ import annotations

import enum

import pytest
from pydantic import ValidationError

from asyncquote._base.errors import InvalidArgumentError
from asyncquote._models.watchlist import (
    FutureStaticExData,
    Market,
    OptionType,
    Security,
    SecurityStaticInfo,
    SecurityType,
    WarrantStaticExData,
    WarrantType,
)

from .._support.models import HK_00700, basic, option_ex_data

# value -> name in the official SDK's tables (DESIGN.md, section 1).
SDK_NAMES: dict[type[enum.IntEnum], dict[int, str]] = {
    Market: {
        0: "N/A",
        1: "HK",
        2: "HK_FUTURE",
        11: "US",
        21: "SH",
        22: "SZ",
        31: "SG",
        41: "JP",
        51: "AU",
        61: "MY",
        71: "CA",
        81: "FX",
        91: "CC",
        101: "EC",
    },
    SecurityType: {
        0: "N/A",
        1: "BOND",
        2: "BWRT",
        3: "STOCK",
        4: "ETF",
        5: "WARRANT",
        6: "IDX",
        7: "PLATE",
        8: "DRVT",
        9: "PLATESET",
        10: "FUTURE",
        11: "FOREX",
        12: "CRYPTO",
    },
    WarrantType: {0: "N/A", 1: "CALL", 2: "PUT", 3: "BULL", 4: "BEAR", 5: "INLINE"},
    OptionType: {0: "ALL", 1: "CALL", 2: "PUT"},
}
ENUMS = list(SDK_NAMES)


# -- enums -------------------------------------------------------------------


@pytest.mark.parametrize("enum_cls", ENUMS, ids=lambda e: e.__name__)
def test_enum_values_and_sdk_names_match_the_protocol_tables(
    enum_cls: type[Market],
) -> None:
    assert {m.value: m.sdk_name for m in enum_cls} == SDK_NAMES[enum_cls]
    for value, name in SDK_NAMES[enum_cls].items():
        assert enum_cls.sdk_name_of(value) == name


@pytest.mark.parametrize("enum_cls", ENUMS, ids=lambda e: e.__name__)
def test_sdk_name_of_an_unknown_value_is_not_applicable(enum_cls: type[Market]) -> None:
    assert enum_cls.sdk_name_of(9999) == "N/A"
    assert enum_cls.sdk_name_of(-1) == "N/A"


@pytest.mark.parametrize("enum_cls", ENUMS, ids=lambda e: e.__name__)
def test_from_value_gives_the_member_or_keeps_an_unknown_int(enum_cls: type[Market]) -> None:
    for member in enum_cls:
        assert enum_cls.from_value(int(member)) is member
    unknown = enum_cls.from_value(9999)
    assert unknown == 9999
    assert type(unknown) is int


# -- Security ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "market", "code"),
    [
        ("HK.00700", Market.HK, "00700"),
        ("US.AAPL", Market.US, "AAPL"),
        ("US.BRK.B", Market.US, "BRK.B"),
        ("HK_FUTURE.999010", Market.HK_FUTURE, "999010"),
        ("SH.600519", Market.SH, "600519"),
        ("HK.HSImain", Market.HK, "HSImain"),
        ("hk.00700", Market.HK, "00700"),
        ("Us.aapl", Market.US, "aapl"),
    ],
)
def test_security_parse_reads_market_prefix_and_keeps_the_code_verbatim(
    text: str, market: Market, code: str
) -> None:
    security = Security.parse(text)
    assert security == Security(market=market, code=code)
    assert type(security.market) is Market


@pytest.mark.parametrize("text", ["HK.00700", "US.BRK.B", "HK_FUTURE.999010", "EC.X"])
def test_str_of_a_security_is_the_sdk_code_string_and_parses_back(text: str) -> None:
    assert str(Security.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no market prefix"),
        ("HK", "no market prefix"),
        ("00700", "no market prefix"),
        (".00700", "no market prefix"),
        ("HK.", "empty code"),
        ("XX.00700", "unknown market prefix 'XX'"),
        ("N/A.00700", "unknown market prefix"),
        ("NONE.00700", "unknown market prefix"),
        ("1.00700", "unknown market prefix"),
        (" HK.00700", "whitespace"),
        ("HK.007 00", "whitespace"),
        ("HK.00700\n", "whitespace"),
    ],
)
def test_security_parse_rejects_malformed_text_with_a_clear_message(text: str, reason: str) -> None:
    with pytest.raises(InvalidArgumentError, match=reason) as info:
        Security.parse(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [None, 700, b"HK.00700"])
def test_security_parse_rejects_non_strings(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match="must be a str"):
        Security.parse(value)  # type: ignore[arg-type]


def test_security_is_hashable_and_equal_by_value() -> None:
    same = Security(market=1, code="00700")
    assert same == HK_00700
    assert hash(same) == hash(HK_00700)
    assert {HK_00700: "tencent"}[same] == "tencent"
    assert len({HK_00700, same, Security.parse("US.AAPL")}) == 2
    assert Security(market=Market.HK, code="00701") != HK_00700


def test_a_known_market_int_becomes_the_enum_member() -> None:
    assert type(Security(market=1, code="00700").market) is Market


def test_an_unknown_market_int_is_kept_as_int() -> None:
    security = Security(market=999, code="X")
    assert security.market == 999
    assert type(security.market) is int
    assert str(security) == "N/A.X"


def test_str_of_a_security_without_market_uses_the_sdk_placeholder() -> None:
    assert str(Security(market=Market.NONE, code="X")) == "N/A.X"


def test_repr_shows_the_fields() -> None:
    assert repr(HK_00700) == "Security(market=<Market.HK: 1>, code='00700')"


# -- immutability and validation -------------------------------------------


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (HK_00700, "code", "00701"),
        (basic(), "lot_size", 1),
        (SecurityStaticInfo(basic=basic()), "warrant_ex_data", None),
    ],
)
def test_models_are_frozen(model: Security, field: str, value: object) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        setattr(model, field, value)


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Security(market=1, code="00700", exchange="SEHK")  # type: ignore[call-arg]


def test_optional_fields_default_to_none() -> None:
    b = basic()
    assert (b.delisting, b.list_timestamp, b.exch_type) == (None, None, None)
    info = SecurityStaticInfo(basic=b)
    assert (info.warrant_ex_data, info.option_ex_data, info.future_ex_data) == (None, None, None)
    future = FutureStaticExData(last_trade_time="", is_main_contract=True)
    assert future.last_trade_timestamp is None


def test_unknown_enum_ints_are_kept_in_every_enum_field() -> None:
    b = basic(sec_type=77)
    assert (b.sec_type, type(b.sec_type)) == (77, int)
    warrant = WarrantStaticExData(type=9, owner=HK_00700)
    assert (warrant.type, type(warrant.type)) == (9, int)
    option = option_ex_data(type=5)
    assert (option.type, type(option.type)) == (5, int)


def test_known_enum_ints_become_members_in_every_enum_field() -> None:
    assert basic(sec_type=3).sec_type is SecurityType.STOCK
    assert WarrantStaticExData(type=3, owner=HK_00700).type is WarrantType.BULL
    assert option_ex_data(type=2).type is OptionType.PUT


def test_static_info_security_is_a_shortcut_for_basic_security() -> None:
    assert SecurityStaticInfo(basic=basic()).security is HK_00700


def test_models_round_trip_through_json() -> None:
    info = SecurityStaticInfo(
        basic=basic(delisting=False, list_timestamp=1087315200.0, sec_type=77),
        warrant_ex_data=WarrantStaticExData(type=WarrantType.CALL, owner=HK_00700),
    )
    again = SecurityStaticInfo.model_validate_json(info.model_dump_json())
    assert again == info
    assert again.warrant_ex_data is not None
    assert again.warrant_ex_data.type is WarrantType.CALL
    assert type(again.basic.sec_type) is int
