"""Group names, types and validation."""

from __future__ import annotations

import pytest

from asyncquote import GroupType, InvalidArgumentError, SystemGroup, WatchlistGroup
from asyncquote._models.groups import check_group_name, group_key, system_group


def test_every_system_group_has_a_chinese_value_and_an_english_name() -> None:
    assert SystemGroup.HK == "港股"
    assert SystemGroup.HK.english == "HK"
    assert SystemGroup.HK_OPTIONS.english == "HK options"
    assert str(SystemGroup.ALL) == "全部"
    assert len({g.english for g in SystemGroup}) == len(SystemGroup) == 9


@pytest.mark.parametrize(("name", "group"), [("All", SystemGroup.ALL), ("全部", SystemGroup.ALL)])
def test_system_groups_are_found_by_either_name(name: str, group: SystemGroup) -> None:
    assert system_group(name) is group
    assert group_key(name) == "全部"


def test_custom_group_names_are_their_own_key() -> None:
    assert system_group("Tech") is None
    assert group_key("Tech") == "Tech"


@pytest.mark.parametrize("name", ["Positions", "持仓", "Mutual Fund", "基金宝", "Forex", "外汇"])
def test_unqueryable_groups_are_refused_with_the_reason(name: str) -> None:
    with pytest.raises(InvalidArgumentError, match="not available through OpenD"):
        check_group_name(name)
    assert check_group_name(name, queryable=False) == name


@pytest.mark.parametrize("bad", [None, 1, b"HK", "", " ", "x" * 257])
def test_bad_group_names_are_refused(bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match="group_name"):
        check_group_name(bad)


def test_a_system_group_member_is_accepted_as_a_name() -> None:
    assert check_group_name(SystemGroup.US) == "美股"
    assert type(check_group_name(SystemGroup.US)) is str


def test_watchlist_group_keeps_unknown_types_as_int() -> None:
    assert WatchlistGroup(name="Tech", type=1).type is GroupType.CUSTOM
    assert WatchlistGroup(name="new", type=9).type == 9
    assert WatchlistGroup(name="港股", type=2).system_group is SystemGroup.HK
