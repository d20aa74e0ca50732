"""The watchlist store's edits, listing order and JSON shape, without any I/O."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from asyncquote.sim import GroupType, ModifyOp, WatchlistStore
from asyncquote.sim.watchlists import (
    SystemGroupError,
    UnknownSecurityError,
    format_code,
    system_groups_for,
)


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
