"""Quotas: per account, over a sliding window of arrival times, with OpenD's refusal texts."""

from __future__ import annotations

import random

import anyio
import pytest

from asyncquote._client.ratelimit import Quota
from asyncquote._pb import (
    KeepAlive_pb2,
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
)
from asyncquote.sim import (
    NO_QUOTAS,
    OPEND_QUOTAS,
    RequestRecord,
    Simulator,
    parse_quota_spec,
    parse_quota_specs,
)
from asyncquote.sim._quotas import QuotaLedger, merge_quotas
from asyncquote.sim._texts import quota_exceeded

from .rawclient import (
    GET_USER_SECURITY,
    GET_USER_SECURITY_GROUP,
    KEEP_ALIVE,
    RawClient,
    ready_client,
    user_security,
)

EN_REFUSAL = "Get user security too frequent, request failed: at most 10 requests per 30 seconds."
ZH_REFUSAL = "获取自选股频率太高，请求失败，每30秒最多10次。"


async def get_user_security(client: RawClient, group: str) -> Qot_GetUserSecurity_pb2.Response:
    return await client.call(
        GET_USER_SECURITY, user_security(group), Qot_GetUserSecurity_pb2.Response
    )


async def ask_many(client: RawClient, count: int) -> list[Qot_GetUserSecurity_pb2.Response]:
    return [await get_user_security(client, "HK") for _ in range(count)]


# --- the ledger, on plain numbers -------------------------------------------


def test_the_eleventh_arrival_within_the_window_is_refused() -> None:
    ledger = QuotaLedger({3213: Quota(10, 30.0)})
    assert [ledger.over_quota(3213, float(t)) for t in range(10)] == [None] * 10
    assert ledger.over_quota(3213, 10.0) == Quota(10, 30.0)


def test_an_arrival_stops_counting_exactly_one_period_later() -> None:
    ledger = QuotaLedger({3213: Quota(2, 30.0)})
    assert ledger.over_quota(3213, 0.0) is None
    assert ledger.over_quota(3213, 1.0) is None
    assert ledger.over_quota(3213, 29.999) is not None
    assert ledger.over_quota(3213, 30.0) is None  # the one at 0 has aged out
    assert ledger.over_quota(3213, 30.5) is not None  # the one at 1 has not


def test_refused_arrivals_take_no_slot() -> None:
    ledger = QuotaLedger({3213: Quota(1, 10.0)})
    assert ledger.over_quota(3213, 0.0) is None
    for t in range(1, 10):
        assert ledger.over_quota(3213, float(t)) is not None
    # Had the refusals counted, the window would still be full.
    assert ledger.over_quota(3213, 10.0) is None


def test_protocols_without_a_quota_are_unlimited() -> None:
    ledger = QuotaLedger({3213: Quota(1, 10.0)})
    assert all(ledger.over_quota(1004, 0.0) is None for _ in range(100))


def test_a_clock_read_slightly_out_of_order_does_not_unsort_the_window() -> None:
    ledger = QuotaLedger({3213: Quota(2, 10.0)})
    assert ledger.over_quota(3213, 5.0) is None
    assert ledger.over_quota(3213, 4.9) is None  # counted as arriving at 5.0
    assert ledger.over_quota(3213, 14.95) is not None
    assert ledger.over_quota(3213, 15.0) is None


def test_overrides_merge_over_opends_quotas_and_none_lifts_one() -> None:
    merged = merge_quotas({3213: Quota(10, 2.0), 3222: None, 1002: Quota(1, 1.0)})
    assert merged == {
        3203: OPEND_QUOTAS[3203],
        3213: Quota(10, 2.0),
        3214: OPEND_QUOTAS[3214],
        1002: Quota(1, 1.0),
    }
    assert merge_quotas() == dict(OPEND_QUOTAS)
    assert merge_quotas(NO_QUOTAS) == {}


def test_opend_allows_10_requests_per_30_seconds_on_the_watchlist_protocols() -> None:
    watchlists = dict.fromkeys((3213, 3214, 3222), Quota(10, 30.0))
    assert dict(OPEND_QUOTAS) == {**watchlists, 3203: Quota(60, 30.0)}  # and 60 snapshots


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"3213": Quota(1, 1.0)}, "protocol ids"), ({3213: (10, 30)}, "must be a Quota or None")],
)
def test_malformed_overrides_are_refused(overrides: dict[object, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        merge_quotas(overrides)  # type: ignore[arg-type]


# --- the refusal texts --------------------------------------------------------


@pytest.mark.parametrize(
    ("proto_id", "quota", "language", "text"),
    [
        (3213, Quota(10, 30.0), "en", EN_REFUSAL),
        (3213, Quota(10, 30.0), "zh", ZH_REFUSAL),
        (
            3222,
            Quota(5, 2.5),
            "en",
            "Get user security group too frequent, request failed: "
            "at most 5 requests per 2.5 seconds.",
        ),
        (3222, Quota(5, 2.5), "zh", "获取自选股分组频率太高，请求失败，每2.5秒最多5次。"),
        (
            3214,
            Quota(3, 1.0),
            "en",
            "Modify user security too frequent, request failed: at most 3 requests per second.",
        ),
        (1002, Quota(1, 60.0), "zh", "协议1002频率太高，请求失败，每60秒最多1次。"),
    ],
)
def test_quota_refusals_name_the_operation_and_the_configured_numbers(
    proto_id: int, quota: Quota, language: str, text: str
) -> None:
    assert quota_exceeded(proto_id, quota, language) == text  # type: ignore[arg-type]


# --- the --quota syntax ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("3213=10/30", (3213, Quota(10, 30.0))),
        (" 3222 = 5 / 2.5 ", (3222, Quota(5, 2.5))),
        ("3214=off", (3214, None)),
        ("3214=OFF", (3214, None)),
    ],
)
def test_quota_specs_parse_into_protocol_and_quota(
    spec: str, expected: tuple[int, Quota | None]
) -> None:
    assert parse_quota_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("3213", "missing '='"),
        ("GetUserSecurity=10/30", "protocol id 'GetUserSecurity' is not a whole number"),
        ("0=10/30", "protocol id 0 is not positive"),
        ("3213=10", "limit '10' has no '/'"),
        ("3213=", "limit '' has no '/'"),
        ("3213=ten/30", "call count 'ten' is not a whole number"),
        ("3213=2.5/30", "call count '2.5' is not a whole number"),
        ("3213=10/soon", "period 'soon' is not a number of seconds"),
        ("3213=0/30", "call count 0 is below 1"),
        ("3213=10/0", "period '0' is not a positive number of seconds"),
        ("3213=10/-1", "period '-1' is not a positive number of seconds"),
        ("3213=10/inf", "period 'inf' is not a positive number of seconds"),
        ("3213=10/nan", "period 'nan' is not a positive number of seconds"),
    ],
)
def test_malformed_quota_specs_say_what_is_wrong_and_what_was_expected(
    spec: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=r"^invalid quota ") as info:
        parse_quota_spec(spec)
    message = str(info.value)
    assert repr(spec) in message
    assert reason in message
    assert "expected PROTO=CALLS/SECONDS or PROTO=off, e.g. 3213=10/30" in message


def test_later_quota_specs_win() -> None:
    specs = ["3213=10/30", "3222=off", "3213=5/2"]
    assert parse_quota_specs(specs) == {3213: Quota(5, 2.0), 3222: None}


# --- over TCP, with no time passing: asyncio and trio ----------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("language", "text"), [("en", EN_REFUSAL), ("zh", ZH_REFUSAL)], ids=["en", "zh"]
)
async def test_the_eleventh_request_in_30_seconds_is_refused_like_opend(
    language: str, text: str
) -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(language=language) as sim,  # type: ignore[arg-type]
            ready_client(sim.host, sim.port) as client,
        ):
            accepted = await ask_many(client, 10)
            refused = await get_user_security(client, "HK")
    assert [response.retType for response in accepted] == [0] * 10
    assert refused.retType == -1
    assert refused.errCode != 0
    assert refused.retMsg == text
    assert not refused.HasField("s2c")


@pytest.mark.anyio
async def test_a_refused_request_leaves_the_connection_usable(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            await ask_many(client, 10)
            # RawClient.call checks that proto id and serial are echoed.
            refused = await get_user_security(client, "HK")
            alive = await client.call(
                KEEP_ALIVE,
                KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)),
                KeepAlive_pb2.Response,
            )
            groups = await client.call(
                GET_USER_SECURITY_GROUP,
                Qot_GetUserSecurityGroup_pb2.Request(
                    c2s=Qot_GetUserSecurityGroup_pb2.C2S(groupType=1)
                ),
                Qot_GetUserSecurityGroup_pb2.Response,
            )
    assert refused.retType == -1
    assert alive.retType == 0
    assert groups.retType == 0


@pytest.mark.anyio
async def test_quotas_are_shared_by_every_connection_of_the_account(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with (
            ready_client(sim.host, sim.port) as first,
            ready_client(sim.host, sim.port) as second,
        ):
            accepted = await ask_many(first, 6) + await ask_many(second, 4)
            refused = [await get_user_security(first, "HK"), await get_user_security(second, "US")]
    assert [response.retType for response in accepted] == [0] * 10
    assert [response.retMsg for response in refused] == [EN_REFUSAL] * 2
    conn_ids = {record.conn_id for record in sim.rejections}
    assert len(conn_ids) == 2


@pytest.mark.anyio
async def test_each_protocol_has_its_own_quota(sim: Simulator) -> None:
    request = Qot_GetUserSecurityGroup_pb2.Request(
        c2s=Qot_GetUserSecurityGroup_pb2.C2S(groupType=3)
    )
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            await ask_many(client, 10)
            group_list = await client.call(
                GET_USER_SECURITY_GROUP, request, Qot_GetUserSecurityGroup_pb2.Response
            )
    assert group_list.retType == 0


@pytest.mark.anyio
async def test_a_quota_set_to_none_is_lifted_and_the_others_stay() -> None:
    request = Qot_GetUserSecurityGroup_pb2.Request(
        c2s=Qot_GetUserSecurityGroup_pb2.C2S(groupType=3)
    )
    with anyio.fail_after(5):
        async with (
            Simulator(quotas={3213: None}) as sim,
            ready_client(sim.host, sim.port) as client,
        ):
            unlimited = await ask_many(client, 30)
            group_lists = [
                await client.call(
                    GET_USER_SECURITY_GROUP, request, Qot_GetUserSecurityGroup_pb2.Response
                )
                for _ in range(11)
            ]
    assert {response.retType for response in unlimited} == {0}
    assert [response.retType for response in group_lists] == [0] * 10 + [-1]
    assert 3213 not in sim.quotas
    assert sim.quotas[3222] == Quota(10, 30.0)


@pytest.mark.anyio
async def test_refusals_are_recorded_and_marked_among_the_requests(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            await ask_many(client, 12)
    assert [record.serial_no for record in sim.rejections] == [12, 13]
    assert all(record.over_quota for record in sim.rejections)
    marked = [record for record in sim.requests if record.over_quota]
    assert marked == list(sim.rejections)
    assert sim.max_arrivals_in_window(GET_USER_SECURITY, 30.0) == 10


@pytest.mark.anyio
async def test_a_fresh_simulator_has_refused_nothing(sim: Simulator) -> None:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            await ask_many(client, 3)
    assert not sim.rejections
    assert sim.max_arrivals_in_window(GET_USER_SECURITY, 30.0) == 3
    assert sim.max_arrivals_in_window(KEEP_ALIVE, 30.0) == 0


@pytest.mark.anyio
async def test_the_unknown_group_refusal_follows_the_language() -> None:
    with anyio.fail_after(5):
        async with Simulator(language="zh") as sim, ready_client(sim.host, sim.port) as client:
            response = await get_user_security(client, "No such group")
    assert response.retType == -1
    assert response.retMsg == "未知自选股分组"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        Simulator(language="fr")  # type: ignore[arg-type]


# --- over TCP, with time passing: trio on a virtual clock ---------------------------


@pytest.mark.anyio
class TestOverVirtualTime:
    """Windows that slide: a 30-second wait here costs no real time."""

    @pytest.fixture
    def anyio_backend(self, virtual_time: tuple[str, dict[str, object]]) -> object:
        return virtual_time

    async def test_requests_are_accepted_again_once_the_window_has_slid(
        self, sim: Simulator
    ) -> None:
        with anyio.fail_after(120):
            async with ready_client(sim.host, sim.port) as client:
                await ask_many(client, 10)
                await anyio.sleep(29)
                still_refused = await get_user_security(client, "HK")
                await anyio.sleep(1.5)
                accepted_again = await ask_many(client, 10)
                refused_again = await get_user_security(client, "HK")
        assert still_refused.retType == -1
        assert [response.retType for response in accepted_again] == [0] * 10
        assert refused_again.retType == -1

    async def test_a_scaled_window_of_10_per_2_seconds_works_the_same(self) -> None:
        with anyio.fail_after(60):
            async with (
                Simulator(quotas={3213: Quota(10, 2.0)}) as sim,
                ready_client(sim.host, sim.port) as client,
            ):
                first = await ask_many(client, 11)
                await anyio.sleep(1.9)
                early = await get_user_security(client, "HK")
                await anyio.sleep(0.2)
                second = await ask_many(client, 11)
        assert [response.retType for response in first] == [0] * 10 + [-1]
        assert first[-1].retMsg == (
            "Get user security too frequent, request failed: at most 10 requests per 2 seconds."
        )
        assert early.retType == -1
        assert [response.retType for response in second] == [0] * 10 + [-1]

    async def test_accepted_requests_never_exceed_the_quota_in_any_window(self) -> None:
        quota = Quota(10, 2.0)
        rng = random.Random(20240601)
        told_ok: list[bool] = []

        async def hammer(client: RawClient) -> None:
            for _ in range(60):
                await anyio.sleep(rng.uniform(0, 0.4))
                told_ok.append((await get_user_security(client, "HK")).retType == 0)

        with anyio.fail_after(600):
            async with (
                Simulator(quotas={3213: quota}) as sim,
                ready_client(sim.host, sim.port) as first,
                ready_client(sim.host, sim.port) as second,
                anyio.create_task_group() as tg,
            ):
                tg.start_soon(hammer, first)
                tg.start_soon(hammer, second)
        records = [r for r in sim.requests if r.proto_id == GET_USER_SECURITY]
        assert len(records) == 120
        assert 0 < len(sim.rejections) < len(records)
        accepted = [r.time for r in records if not r.over_quota]
        assert told_ok.count(True) == len(accepted)
        most_in_a_window = max(
            sum(start <= t < start + quota.period for t in accepted) for start in accepted
        )
        assert most_in_a_window == quota.max_calls
        assert sim.max_arrivals_in_window(GET_USER_SECURITY, quota.period) == most_in_a_window


def test_max_arrivals_in_window_counts_accepted_arrivals_in_half_open_windows() -> None:
    sim = Simulator()
    times = [0.0, 0.5, 1.0, 2.0, 2.5, 2.9, 3.0, 10.0]
    sim.requests.extend(RequestRecord(3213, n, 1, t) for n, t in enumerate(times))
    sim.requests.append(RequestRecord(3213, 99, 1, 2.6, over_quota=True))
    sim.requests.append(RequestRecord(3222, 100, 1, 2.7))
    # [2.0, 3.0) holds 2.0, 2.5 and 2.9; 3.0 falls outside, and so does the refusal.
    assert sim.max_arrivals_in_window(3213, 1.0) == 3
    assert sim.max_arrivals_in_window(3213, 1.01) == 4
    assert sim.max_arrivals_in_window(3213, 100.0) == len(times)
    assert sim.max_arrivals_in_window(3214, 1.0) == 0
