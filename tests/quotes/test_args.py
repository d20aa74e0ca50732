"""The live-quote argument checks: typed errors that name the argument, for any value."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote import InvalidArgumentError, Security
from asyncquote._opend.quotes import OrderBookType, Session, SubType
from asyncquote._quotes.args import (
    STREAMED_SUB_TYPES,
    check_code,
    check_codes,
    check_levels,
    check_order_book_type,
    check_session,
    check_stream_name,
    check_sub_types,
)


def test_codes_are_parsed_once_each_in_the_order_given() -> None:
    codes = ["US.AAPL", Security.parse("HK.00700"), "hk.00700", "US.AAPL"]
    assert check_codes(codes) == [(11, "AAPL"), (1, "00700")]


@pytest.mark.parametrize(
    ("codes", "words"),
    [
        ("HK.00700", "not a single str"),
        (Security.parse("HK.00700"), "not a single Security"),
        ([], "must not be empty"),
        (5, "must be a list of codes"),
        (["00700"], "market prefix"),
        (["XX.1"], "unknown market"),
        ([b"HK.00700"], "each of codes must be a Security"),
    ],
)
def test_bad_codes_are_invalid_arguments(codes: object, words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        check_codes(codes)


def test_sub_types_are_members_or_their_values_each_once() -> None:
    assert check_sub_types([1, SubType.ORDER_BOOK, SubType.QUOTE]) == [
        SubType.QUOTE,
        SubType.ORDER_BOOK,
    ]


def test_every_kind_of_subscription_may_be_held() -> None:
    kinds = [kind for kind in SubType if kind is not SubType.NONE]
    assert check_sub_types(kinds) == kinds


def test_streamed_only_takes_every_kind_including_the_odd_lot_book() -> None:
    streamed = [kind for kind in SubType if kind is not SubType.NONE]
    assert check_sub_types(streamed, streamed_only=True) == streamed
    assert list(STREAMED_SUB_TYPES) == streamed
    assert check_sub_types([SubType.ORDER_BOOK_ODD], streamed_only=True) == [SubType.ORDER_BOOK_ODD]
    with pytest.raises(InvalidArgumentError, match="unknown subscription type"):
        check_sub_types([SubType.QUOTE, SubType.NONE], streamed_only=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (OrderBookType.NORMAL, OrderBookType.NORMAL),
        (OrderBookType.ODD, OrderBookType.ODD),
        ("ODD", OrderBookType.ODD),
        ("NORMAL", OrderBookType.NORMAL),
    ],
)
def test_order_book_type_takes_the_enum_and_the_sdk_names(
    value: object, expected: OrderBookType
) -> None:
    assert check_order_book_type(value) is expected


@pytest.mark.parametrize("value", [1, 0, True, None, "odd", "NONE", SubType.ORDER_BOOK_ODD])
def test_order_book_type_refuses_anything_else(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match="order_book_type must be"):
        check_order_book_type(value)


@pytest.mark.parametrize(
    ("sub_types", "words"),
    [
        (SubType.QUOTE, "must be a list"),
        ("QUOTE", "must be a list"),
        ([], "must not be empty"),
        ([99], "unknown subscription type 99"),
        ([True], "unknown subscription type True"),
        ([SubType.NONE], "unknown subscription type"),
    ],
)
def test_bad_sub_types_are_invalid_arguments(sub_types: object, words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        check_sub_types(sub_types)


@pytest.mark.parametrize("num", [0, 41, -1, 1.5, True, "10", None])
def test_order_book_levels_out_of_range_are_invalid_arguments(num: object) -> None:
    with pytest.raises(InvalidArgumentError, match="num"):
        check_levels(num)


@pytest.mark.parametrize("name", ["", "a\x00b", "\ud800", 5])
def test_bad_stream_names_are_invalid_arguments(name: object) -> None:
    with pytest.raises(InvalidArgumentError, match="name"):
        check_stream_name(name)


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.binary(),
    st.lists(st.one_of(st.integers(), st.text(), st.none()), max_size=4),
)


@given(value=anything)
def test_any_value_is_accepted_or_an_invalid_argument(value: object) -> None:
    for check in (check_codes, check_sub_types, check_levels, check_stream_name, check_session):
        with contextlib.suppress(InvalidArgumentError):
            check(value)
    with contextlib.suppress(InvalidArgumentError):
        check_code("code", value)


def test_sessions_are_members_or_the_sdks_names() -> None:
    assert [check_session(name) for name in ("N/A", "RTH", "ETH", "ALL", "OVERNIGHT")] == list(
        Session
    )
    assert check_session(Session.ETH) is Session.ETH


@pytest.mark.parametrize("session", [2, True, "eth", "NONE", None, Session.ETH.value + 0.0])
def test_bad_sessions_are_invalid_arguments(session: object) -> None:
    with pytest.raises(InvalidArgumentError, match="session must be"):
        check_session(session)
