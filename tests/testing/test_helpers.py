"""The helpers behind the fixtures, without pytest's machinery: options, watchlists, logs."""

from __future__ import annotations

import pytest

from asyncquote import Quota
from asyncquote._opend.vocabulary import Market, SecurityType, parse_code
from asyncquote.sim import Faults, RequestRecord, WatchlistStore
from asyncquote.testing import (
    FAST_QUOTAS,
    OpenD,
    OpenDOptions,
    RequestLog,
    scaled_quotas,
    static_info,
    watchlist_store,
)


def sample_codes() -> list[str]:
    securities = WatchlistStore.sample().to_dict()["securities"]
    return [
        f"{Market(entry['basic']['security']['market']).name}.{entry['basic']['security']['code']}"
        for entry in securities
    ]


def test_made_up_static_info_is_the_same_every_time() -> None:
    assert static_info("US.NEWCO") == static_info("US.NEWCO")
    assert static_info("US.NEWCO").basic.id != static_info("US.NEWCO2").basic.id
    assert static_info("US.NEWCO").IsInitialized()


@pytest.mark.parametrize(
    ("code", "sec_type", "lot_size"),
    [
        ("HK.01234", SecurityType.STOCK, 100),
        ("US.NEWCO", SecurityType.STOCK, 1),
        ("SH.688001", SecurityType.STOCK, 100),
        ("HK.TCH260629C500000", SecurityType.DRVT, 100),
        ("HK.XYZmain", SecurityType.FUTURE, 1),
        ("HK_FUTURE.999010", SecurityType.FUTURE, 1),
        ("SG.D05", SecurityType.STOCK, 1),
    ],
)
def test_made_up_static_info_by_kind(code: str, sec_type: SecurityType, lot_size: int) -> None:
    info = static_info(code)
    assert (info.basic.secType, info.basic.lotSize) == (sec_type, lot_size)
    assert info.IsInitialized()


def test_an_option_code_gives_option_data() -> None:
    info = static_info("HK.TCH260629C500000")
    assert info.optionExData.owner.market == Market.HK
    assert info.optionExData.owner.code == "TCH"
    assert info.optionExData.strikeTime == "2026-06-29"
    assert info.optionExData.strikePrice == 500.0
    assert info.basic.listTime == ""  # OpenD gives options no listing date


def test_a_store_from_a_dict_fills_system_groups_and_keeps_named_ones() -> None:
    store = watchlist_store({"Tech": ["US.AAPL", "US.NEWCO"], "HK": ["HK.00700"]})
    listing = {group.name: group for group in store.groups}
    assert store.securities_in("Tech")[0].basic.name == "苹果"
    assert [info.basic.security.code for info in store.securities_in("全部")] == [
        "AAPL",
        "NEWCO",
        "00700",
    ]
    # "HK" names the system group, and keeps the name as given.
    assert "港股" not in listing
    assert [group.name for group in store.groups][-1] == "Tech"
    assert store.find_group("Positions") is not None  # there, as on every account


def test_naming_watchlists_keeps_every_security_the_sample_knows() -> None:
    store = watchlist_store({"Tech": ["US.NEWCO"]})
    sample = WatchlistStore.sample()
    known = [parse_code(code) for code in sample_codes()]
    assert len(known) > len(sample.securities_in("All"))  # listed in no group too
    for key in known:
        assert store.security(key) == sample.security(key)
    assert store.security((Market.US, "NEWCO")) == static_info("US.NEWCO")
    # Known is not listed: only what the dict names is in the groups.
    assert [str(info.basic.security.code) for info in store.securities_in("All")] == ["NEWCO"]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"Tech": "US.AAPL"}, "must be a list of codes"),
        ({"Tech": ["AAPL"]}, "no market prefix"),
        ({"Tech": ["US.AAPL", "US.AAPL"]}, "twice"),
        (["Tech"], "must map group names"),
    ],
)
def test_a_bad_watchlist_dict_is_refused(groups: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        watchlist_store(groups)  # type: ignore[arg-type]


def test_set_group_creates_replaces_and_shows_new_securities_in_system_groups() -> None:
    store = WatchlistStore.sample()
    group = store.set_group("New", [static_info("US.NEWCO"), store.security((Market.US, "AAPL"))])
    assert store.find_group("New") is group
    assert [info.basic.security.code for info in store.securities_in("New")] == ["NEWCO", "AAPL"]
    assert store.securities_in("US")[-1].basic.security.code == "NEWCO"
    store.set_group("New", [])
    assert store.securities_in("New") == []
    assert store.securities_in("US")[-1].basic.security.code == "NEWCO"  # moved out only


def test_quota_presets() -> None:
    assert FAST_QUOTAS[3213] == Quota(10, 0.3)
    assert scaled_quotas(2)[3222] == Quota(10, 60.0)
    off = dict.fromkeys((3203, 3213, 3214, 3222))
    assert OpenDOptions(quotas="off").quota_overrides() == off
    assert OpenDOptions().quota_overrides() == {}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"quota": "fast"}, ValueError, "unknown option.*quota; known:"),
        ({"quotas": "slow"}, ValueError, "quotas must be one of"),
        ({"quotas": {3213: 10}}, ValueError, "must be a Quota or None"),
        ({"faults": {"reply_delay": -1}}, ValueError, "reply_delay"),
        ({"faults": 3}, TypeError, "faults must be a Faults"),
        ({"language": "fr"}, ValueError, "language"),
    ],
)
def test_bad_options_are_refused_where_given(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message), OpenD.start(**kwargs):
        pass


def test_options_merge_field_by_field() -> None:
    base = OpenDOptions.from_kwargs("here", {"language": "zh", "quotas": "off"})
    merged = base.merged("there", {"quotas": "fast"})
    assert (merged.language, merged.quotas) == ("zh", "fast")
    assert OpenDOptions(faults={"reply_delay": 0.5}).simulator_kwargs()["faults"] == Faults(
        reply_delay=0.5
    )


def test_a_gateway_outside_pytest_fixtures() -> None:
    with OpenD.start(watchlists={"Tech": ["US.AAPL"]}, quotas="fast") as opend:
        assert opend.watchlists["Tech"] == ["US.AAPL"]
        assert opend.connect_kwargs()["port"] == opend.port
        assert opend.connect_kwargs()["quotas"] == FAST_QUOTAS
        assert opend.requests == []


def test_a_request_log_compares_with_any_sequence_of_its_records() -> None:
    record = RequestRecord(3213, 1, 1, 0.0)
    log = RequestLog([record])
    assert log == [record]
    assert log == (record,)
    assert log != []
    assert log != "x"
    assert log[0] is record
    assert log[:0] == []


def test_a_record_knows_its_group_only_for_protocols_with_one() -> None:
    from asyncquote._pb import Qot_GetUserSecurity_pb2

    request = Qot_GetUserSecurity_pb2.Request()
    request.c2s.groupName = "港股"
    body = request.SerializeToString()
    assert RequestRecord(3213, 1, 1, 0.0, body=body).group == "港股"
    assert RequestRecord(3222, 1, 1, 0.0, body=body).group is None
    assert RequestRecord(3213, 1, 1, 0.0, body=b"\xff\xff").group is None
    assert RequestRecord(3213, 1, 1, 0.0).group is None
