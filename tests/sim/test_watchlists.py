"""The watchlist store on its own, without any I/O: loading, group names, lookups, edits.

First OpenD's lookup rules and loading; then edits, listing order and the
JSON shape.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from asyncquote._pb import Qot_Common_pb2
from asyncquote.sim import (
    GroupType,
    ModifyOp,
    WatchlistGroup,
    WatchlistStore,
    format_code,
    parse_code,
)
from asyncquote.sim._watchlists import (
    GroupNotQueryableError,
    SystemGroupError,
    UnknownGroupError,
    UnknownSecurityError,
    system_groups_for,
)

# -- loading, group names and OpenD's lookup rules -----------------------------


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


# -- edits, listing order and the JSON shape -----------------------------------


def members(store: WatchlistStore) -> dict[str, list[str]]:
    return {group.name: [format_code(key) for key in group.members] for group in store.groups}


def test_the_samples_system_groups_follow_the_rule_that_adding_applies() -> None:
    store = WatchlistStore.sample()
    expected: dict[str, list[str]] = {}
    for key in store.groups[0].members:  # 全部, in its order
        for name in system_groups_for(store.security(key)):
            expected.setdefault(name, []).append(format_code(key))
    shown = {name: codes for name, codes in members(store).items() if name in expected}
    assert shown == expected


def test_the_sample_has_securities_in_no_group_to_add() -> None:
    data = WatchlistStore.sample().to_dict()
    listed = {code for group in data["groups"] for code in group["securities"]}
    known = {
        format_code((entry["basic"]["security"]["market"], entry["basic"]["security"]["code"]))
        for entry in data["securities"]
    }
    unlisted = {"HK.00005", "US.NVDA", "US.NVDA260618C150000", "HK.MHImain", "SH.601318"}
    assert unlisted <= known - listed


def test_an_edit_whose_change_hook_fails_is_undone() -> None:
    store = WatchlistStore.sample()
    before = members(store)
    tech = store.find_group("Tech")
    assert tech is not None
    held = tech.members

    def fail(_: WatchlistStore) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        store.modify("Tech", ModifyOp.DELETE, [(11, "AAPL")], on_change=fail)
    assert members(store) == before
    assert tech.members is held


def test_the_change_hook_runs_only_when_something_changed() -> None:
    store = WatchlistStore.sample()
    seen: list[WatchlistStore] = []
    assert not store.modify("Tech", ModifyOp.ADD, [(11, "AAPL")], on_change=seen.append)
    assert store.modify("Tech", ModifyOp.ADD, [(11, "NVDA")], on_change=seen.append)
    assert seen == [store]


def test_a_refused_edit_changes_nothing() -> None:
    store = WatchlistStore.sample()
    before = members(store)
    with pytest.raises(UnknownSecurityError) as caught:
        store.modify("Tech", ModifyOp.ADD, [(11, "NVDA"), (1, "99999")])
    assert caught.value.keys == ((1, "99999"),)
    assert str(caught.value) == "HK.99999"
    with pytest.raises(SystemGroupError):
        store.modify("HK", ModifyOp.ADD, [(11, "NVDA")])
    with pytest.raises(ValueError, match="ModifyOp"):
        store.modify("Tech", 7, [(11, "NVDA")])  # type: ignore[arg-type]
    assert members(store) == before


def test_a_custom_group_named_like_a_system_group_is_shadowed_and_not_editable() -> None:
    sample = WatchlistStore.sample().to_dict()
    sample["groups"].insert(0, {"name": "HK", "type": "custom", "securities": []})
    store = WatchlistStore.from_dict(sample)
    # The system group comes first in the listing, so it wins the name.
    with pytest.raises(SystemGroupError):
        store.modify("HK", ModifyOp.ADD, [(1, "00005")])


def test_groups_are_listed_system_first_in_opends_order_then_custom_as_given() -> None:
    sample = WatchlistStore.sample().to_dict()
    shuffled = copy.deepcopy(sample)
    shuffled["groups"].reverse()
    store = WatchlistStore.from_dict(shuffled)
    names = [group.name for group in store.groups]
    sample_system = [g["name"] for g in sample["groups"] if g["type"] == "system"]
    assert names == [*sample_system, "A", "Macro", "Tech"]
    assert [g.group_type for g in store.groups][-2:] == [GroupType.CUSTOM, GroupType.CUSTOM]


def test_the_json_shape_round_trips() -> None:
    store = WatchlistStore.sample()
    store.modify("Macro", ModifyOp.ADD, [(1, "MHImain"), (11, "NVDA")])
    again = WatchlistStore.from_dict(store.to_dict())
    assert members(again) == members(store)
    assert again.to_dict() == store.to_dict()
    assert again.security((1, "MHImain")) == store.security((1, "MHImain"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("groups"), "'groups' must be a list"),
        (lambda d: d.__setitem__("securities", {}), "'securities' must be a list"),
        (lambda d: d["securities"].append("AAPL"), r"securities\[\d+\]: not an object"),
        (lambda d: d["securities"][0].__setitem__("basic", 5), r"securities\[0\]"),
        (lambda d: d["securities"][0]["basic"].pop("name"), "HK.00700 lacks required fields"),
        (lambda d: d["groups"][0].__setitem__("type", "smart"), "'type' must be 'system'"),
        (lambda d: d["groups"][0].__setitem__("name", 3), "'name' must be a string"),
        (lambda d: d["groups"][-1]["securities"].append("XX.1"), "not a security code"),
        (lambda d: d["groups"][-1]["securities"].append("HK.99999"), "unknown securities"),
        (lambda d: d["groups"][-1]["securities"].append("HK.00700"), "twice"),
        (
            lambda d: d["groups"].append({"name": "Mine", "type": "system"}),
            "'Mine' is not a system group",
        ),
        (
            lambda d: d["groups"].append({"name": "All", "type": "system"}),
            "system group 'All' is given twice",
        ),
    ],
)
def test_malformed_data_is_refused_saying_where(change: Any, message: str) -> None:
    data = WatchlistStore.sample().to_dict()
    change(data)
    with pytest.raises(ValueError, match=message):
        WatchlistStore.from_dict(data)


def test_data_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a JSON object"):
        WatchlistStore.from_dict([])  # type: ignore[arg-type]
