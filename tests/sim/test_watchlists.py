"""The watchlist store on its own: loading, group names, and OpenD's lookup rules."""

from __future__ import annotations

from typing import Any

import pytest

from asyncquote._pb import Qot_Common_pb2
from asyncquote.sim import GroupType, WatchlistGroup, WatchlistStore, format_code, parse_code
from asyncquote.sim.watchlists import GroupNotQueryableError, UnknownGroupError


def info(market: int, code: str, name: str) -> Qot_Common_pb2.SecurityStaticInfo:
    item = Qot_Common_pb2.SecurityStaticInfo()
    basic = item.basic
    basic.security.market = market
    basic.security.code = code
    basic.id = hash(code) & 0xFFFF
    basic.lotSize = 100
    basic.secType = 3
    basic.name = name
    basic.listTime = "2000-01-01"
    return item


def codes(store: WatchlistStore, group_name: str) -> list[str]:
    return [i.basic.security.code for i in store.securities_in(group_name)]


@pytest.fixture
def store() -> WatchlistStore:
    securities = [info(1, "00700", "Tencent"), info(11, "AAPL", "Apple"), info(11, "FUTU", "Futu")]
    return WatchlistStore(
        securities,
        [
            WatchlistGroup("全部", GroupType.SYSTEM, [(1, "00700"), (11, "AAPL"), (11, "FUTU")]),
            WatchlistGroup("Tech", GroupType.CUSTOM, [(11, "AAPL")]),
            WatchlistGroup("Tech", GroupType.CUSTOM, [(11, "FUTU")]),
            WatchlistGroup("持仓", GroupType.SYSTEM, [(1, "00700")]),
        ],
    )


def test_when_several_groups_share_a_name_the_first_wins(store: WatchlistStore) -> None:
    assert codes(store, "Tech") == ["AAPL"]


def test_a_system_group_answers_to_its_english_name(store: WatchlistStore) -> None:
    assert codes(store, "All") == codes(store, "全部") == ["00700", "AAPL", "FUTU"]


def test_group_names_are_case_sensitive_like_opend(store: WatchlistStore) -> None:
    with pytest.raises(UnknownGroupError):
        store.securities_in("all")


def test_unknown_group_raises(store: WatchlistStore) -> None:
    with pytest.raises(UnknownGroupError) as caught:
        store.securities_in("Nope")
    assert caught.value.group_name == "Nope"


@pytest.mark.parametrize("name", ["持仓", "Positions"])
def test_the_positions_group_is_listed_but_not_queryable(store: WatchlistStore, name: str) -> None:
    # Listed second: system groups come before custom ones, whatever the input order.
    assert store.find_group(name) is store.groups[1]
    with pytest.raises(GroupNotQueryableError):
        store.securities_in(name)


def test_a_group_listing_an_unknown_security_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"HK\.00005"):
        WatchlistStore([], [WatchlistGroup("Bad", GroupType.CUSTOM, [(1, "00005")])])


def test_a_security_listed_twice_is_rejected() -> None:
    with pytest.raises(ValueError, match="twice"):
        WatchlistStore([info(1, "00700", "a"), info(1, "00700", "b")], [])


def test_codes_round_trip() -> None:
    for text in ["HK.00700", "US.AAPL", "SH.600519", "HK_FUTURE.999010", "US.AAPL260618C200000"]:
        assert format_code(parse_code(text)) == text
    assert parse_code("HK.HSImain") == (1, "HSImain")


@pytest.mark.parametrize("text", ["00700", "XX.00700", "HK."])
def test_a_code_without_a_known_market_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a security code"):
        parse_code(text)


def test_from_dict_reads_protobuf_json_and_group_codes() -> None:
    data: dict[str, Any] = {
        "securities": [
            {
                "basic": {
                    "security": {"market": 11, "code": "AAPL"},
                    "id": 1,
                    "lotSize": 1,
                    "secType": 3,
                    "name": "Apple",
                    "listTime": "1980-12-12",
                }
            }
        ],
        "groups": [{"name": "美股", "type": "system", "securities": ["US.AAPL"]}],
    }
    store = WatchlistStore.from_dict(data)
    assert store.groups[0].group_type is GroupType.SYSTEM
    assert [i.basic.name for i in store.securities_in("US")] == ["Apple"]


def test_the_bundled_sample_has_the_realistic_mix() -> None:
    store = WatchlistStore.sample()
    everything = store.securities_in("All")
    kinds = {i.basic.secType for i in everything}
    assert {3, 5, 6, 8, 10} <= kinds
    assert {i.basic.security.market for i in everything} >= {1, 11}
    every_member = {key for group in store.groups for key in group.members}
    assert {(i.basic.security.market, i.basic.security.code) for i in everything} == every_member
    assert any(g.group_type is GroupType.CUSTOM for g in store.groups)
    future = store.security((1, "HSImain"))
    assert future.futureExData.isMainContract
    for item in everything:
        assert item.IsInitialized()


def test_each_sample_load_is_independent() -> None:
    first, second = WatchlistStore.sample(), WatchlistStore.sample()
    first.groups[0].members.clear()
    assert second.securities_in("All")
