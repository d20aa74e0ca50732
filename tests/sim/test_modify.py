"""Protocol 3214 over loopback TCP: editing watchlists, and what 3213 and 3222 then show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from asyncquote._client.ratelimit import Quota
from asyncquote._pb import (
    Qot_GetUserSecurity_pb2,
    Qot_GetUserSecurityGroup_pb2,
    Qot_ModifyUserSecurity_pb2,
)
from asyncquote.sim import NO_QUOTAS, Simulator, parse_code

from .rawclient import (
    GET_USER_SECURITY,
    GET_USER_SECURITY_GROUP,
    MODIFY_USER_SECURITY,
    RawClient,
    ready_client,
    user_security,
    user_security_group,
)
from .rawclient import modify_user_security as modify_request

pytestmark = pytest.mark.anyio

ADD, DELETE, MOVE_OUT = 1, 2, 3

# In the sample's security database but in no group, so tests can add them.
UNLISTED_HK_STOCK = "HK.00005"
UNLISTED_US_STOCK = "US.NVDA"
UNLISTED_US_OPTION = "US.NVDA260618C150000"
UNLISTED_FUTURE = "HK.MHImain"
UNLISTED_CN_STOCKS = ["SH.601318", "SZ.300750"]


class Session:
    """One initialised connection with watchlist helpers that speak in code strings."""

    def __init__(self, client: RawClient) -> None:
        self.client = client

    async def modify(
        self, group_name: str, op: int, *codes: str
    ) -> Qot_ModifyUserSecurity_pb2.Response:
        request = modify_request(group_name, op, [parse_code(code) for code in codes])
        return await self.client.call(
            MODIFY_USER_SECURITY, request, Qot_ModifyUserSecurity_pb2.Response
        )

    async def codes(self, group_name: str) -> list[str]:
        response = await self.client.call(
            GET_USER_SECURITY, user_security(group_name), Qot_GetUserSecurity_pb2.Response
        )
        assert response.retType == 0, response.retMsg
        return [
            f"{_PREFIX[info.basic.security.market]}.{info.basic.security.code}"
            for info in response.s2c.staticInfoList
        ]

    async def group_names(self, group_type: int) -> list[tuple[str, int]]:
        response = await self.client.call(
            GET_USER_SECURITY_GROUP,
            user_security_group(group_type),
            Qot_GetUserSecurityGroup_pb2.Response,
        )
        assert response.retType == 0, response.retMsg
        return [(group.groupName, group.groupType) for group in response.s2c.groupList]

    async def snapshot(self) -> dict[str, list[str]]:
        """Every queryable group's codes, to show that a refusal changed nothing."""
        names = [name for name, _ in await self.group_names(3)]
        queryable = [name for name in names if name not in ("持仓", "基金宝", "外汇")]
        return {name: await self.codes(name) for name in queryable}


_PREFIX = {1: "HK", 11: "US", 21: "SH", 22: "SZ"}


@asynccontextmanager
async def session_with(sim: Simulator) -> AsyncIterator[Session]:
    with anyio.fail_after(5):
        async with ready_client(sim.host, sim.port) as client:
            yield Session(client)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    # These tests read many groups per test: OpenD's 10-per-30-s quota would
    # refuse them. The quota's interplay with 3214 has its own test below.
    async with Simulator(quotas=NO_QUOTAS) as simulator:
        yield simulator


@pytest.fixture
async def session(sim: Simulator) -> AsyncIterator[Session]:
    async with session_with(sim) as opened:
        yield opened


def assert_ok(response: Qot_ModifyUserSecurity_pb2.Response) -> None:
    assert (response.retType, response.retMsg) == (0, "")
    # Success carries an empty s2c, as OpenD's does.
    assert response.HasField("s2c")
    assert response.s2c.ByteSize() == 0


def assert_refused(response: Qot_ModifyUserSecurity_pb2.Response, message: str) -> None:
    assert response.retType == -1
    assert response.errCode != 0
    assert response.retMsg == message
    assert not response.HasField("s2c")


# --- add -------------------------------------------------------------------


async def test_adding_to_a_custom_group_appends_and_shows_in_all_and_the_market_group(
    session: Session,
) -> None:
    tech_before = await session.codes("Tech")
    assert_ok(await session.modify("Tech", ADD, UNLISTED_HK_STOCK, UNLISTED_US_STOCK))
    assert await session.codes("Tech") == [*tech_before, UNLISTED_HK_STOCK, UNLISTED_US_STOCK]
    assert (await session.codes("All"))[-2:] == [UNLISTED_HK_STOCK, UNLISTED_US_STOCK]
    assert (await session.codes("港股"))[-1] == UNLISTED_HK_STOCK
    assert (await session.codes("US"))[-1] == UNLISTED_US_STOCK
    assert UNLISTED_HK_STOCK not in await session.codes("US")
    assert UNLISTED_HK_STOCK not in await session.codes("Starred")


async def test_adding_an_option_shows_it_under_options_and_its_markets_options_group(
    session: Session,
) -> None:
    assert_ok(await session.modify("Tech", ADD, UNLISTED_US_OPTION))
    assert (await session.codes("Options"))[-1] == UNLISTED_US_OPTION
    assert (await session.codes("US options"))[-1] == UNLISTED_US_OPTION
    assert UNLISTED_US_OPTION not in await session.codes("HK options")
    assert UNLISTED_US_OPTION not in await session.codes("US")


async def test_adding_a_future_shows_it_under_futures_not_under_its_market(
    session: Session,
) -> None:
    assert_ok(await session.modify("Macro", ADD, UNLISTED_FUTURE))
    assert (await session.codes("期货"))[-1] == UNLISTED_FUTURE
    assert UNLISTED_FUTURE not in await session.codes("港股")


async def test_adding_shanghai_and_shenzhen_stocks_shows_them_under_cn_in_order(
    session: Session,
) -> None:
    assert_ok(await session.modify("Macro", ADD, *UNLISTED_CN_STOCKS))
    assert (await session.codes("CN"))[-2:] == UNLISTED_CN_STOCKS
    assert (await session.codes("Macro"))[-2:] == UNLISTED_CN_STOCKS


async def test_adding_is_idempotent_and_never_duplicates(session: Session) -> None:
    before = await session.snapshot()
    assert_ok(await session.modify("Tech", ADD, "HK.00700", "US.AAPL"))
    assert await session.snapshot() == before
    for _ in range(2):
        assert_ok(await session.modify("Tech", ADD, UNLISTED_HK_STOCK, UNLISTED_HK_STOCK))
    after = await session.snapshot()
    for name in ("Tech", "全部", "港股"):
        assert after[name].count(UNLISTED_HK_STOCK) == 1


async def test_adding_a_listed_security_to_another_group_leaves_the_system_groups_alone(
    session: Session,
) -> None:
    everything = await session.codes("All")
    assert_ok(await session.modify("Macro", ADD, "HK.00700"))
    assert (await session.codes("Macro"))[-1] == "HK.00700"
    assert await session.codes("All") == everything


# --- delete and move out ---------------------------------------------------


async def test_deleting_removes_a_security_from_every_group(session: Session) -> None:
    assert "HK.00700" in await session.codes("Starred")
    # Named through Macro, which does not even list it: delete is watchlist-wide.
    assert_ok(await session.modify("Macro", DELETE, "HK.00700"))
    for codes in (await session.snapshot()).values():
        assert "HK.00700" not in codes


async def test_moving_out_removes_a_security_from_that_group_only(session: Session) -> None:
    assert_ok(await session.modify("Tech", MOVE_OUT, "US.AAPL", "HK.09988"))
    assert await session.codes("Tech") == ["US.TSLA", "HK.00700", "US.FUTU"]
    assert "US.AAPL" in await session.codes("All")
    assert "US.AAPL" in await session.codes("US")
    assert "HK.09988" in await session.codes("HK")


async def test_deleting_or_moving_out_what_is_not_there_changes_nothing(
    session: Session,
) -> None:
    before = await session.snapshot()
    assert_ok(await session.modify("Tech", DELETE, UNLISTED_HK_STOCK))
    assert_ok(await session.modify("Macro", MOVE_OUT, "US.AAPL"))
    assert await session.snapshot() == before


async def test_a_deleted_security_can_be_added_back_at_the_end(session: Session) -> None:
    assert_ok(await session.modify("Tech", DELETE, "US.AAPL"))
    assert_ok(await session.modify("Tech", ADD, "US.AAPL"))
    assert (await session.codes("Tech"))[-1] == "US.AAPL"
    assert (await session.codes("All"))[-1] == "US.AAPL"


async def test_changes_are_seen_by_every_connection(sim: Simulator, session: Session) -> None:
    assert_ok(await session.modify("Tech", ADD, UNLISTED_US_STOCK))
    async with session_with(sim) as other:
        assert (await other.codes("Tech"))[-1] == UNLISTED_US_STOCK


async def test_modifying_leaves_the_group_list_as_it_was(session: Session) -> None:
    before = await session.group_names(3)
    assert_ok(await session.modify("Tech", DELETE, "US.AAPL", "US.TSLA", "HK.00700"))
    assert await session.group_names(3) == before


# --- refusals --------------------------------------------------------------


@pytest.mark.parametrize(
    "group_name", ["All", "全部", "港股", "US options", "Starred", "Positions"]
)
@pytest.mark.parametrize("op", [ADD, DELETE, MOVE_OUT])
async def test_system_groups_cannot_be_modified(session: Session, group_name: str, op: int) -> None:
    before = await session.snapshot()
    response = await session.modify(group_name, op, "HK.00700", UNLISTED_HK_STOCK)
    assert_refused(
        response, f"System watchlists cannot be modified: {group_name!r} is a system group"
    )
    assert await session.snapshot() == before


async def test_an_unknown_group_is_refused_like_opend(session: Session) -> None:
    before = await session.snapshot()
    assert_refused(await session.modify("No such group", ADD, "HK.00700"), "Unknown watchlists")
    # Names are case-sensitive, as for 3213.
    assert_refused(await session.modify("tech", ADD, "HK.00700"), "Unknown watchlists")
    assert await session.snapshot() == before


async def test_an_unknown_security_is_refused_by_code_and_nothing_is_added(
    session: Session,
) -> None:
    before = await session.snapshot()
    response = await session.modify("Tech", ADD, UNLISTED_HK_STOCK, "HK.99999", "US.NOPE")
    assert_refused(response, "Unknown stock: HK.99999, US.NOPE")
    assert await session.snapshot() == before


async def test_a_refusal_naming_thousands_of_securities_names_the_first_few_and_the_count(
    session: Session,
) -> None:
    codes = [f"US.NOPE{i}" for i in range(5000)]
    response = await session.modify("Tech", ADD, *codes)
    assert_refused(
        response,
        "Unknown stock: US.NOPE0, US.NOPE1, US.NOPE2, US.NOPE3, US.NOPE4 and 4,995 more",
    )


async def test_an_empty_security_list_is_refused(session: Session) -> None:
    assert_refused(await session.modify("Tech", ADD), "No securities given: securityList is empty")


@pytest.mark.parametrize("op", [0, 4, -1])
async def test_an_unknown_op_is_refused_and_changes_nothing(session: Session, op: int) -> None:
    before = await session.snapshot()
    response = await session.modify("Tech", op, "US.AAPL")
    assert_refused(
        response, f"Unknown watchlist operation {op} (expected 1 add, 2 delete or 3 move out)"
    )
    assert await session.snapshot() == before


async def test_refusals_are_in_chinese_for_a_chinese_gateway() -> None:
    async with Simulator(quotas=NO_QUOTAS, language="zh") as sim, session_with(sim) as session:
        assert_refused(
            await session.modify("港股", ADD, "HK.00700"),
            "系统自选股分组不支持修改：'港股'是系统分组",
        )
        assert_refused(await session.modify("nope", ADD, "HK.00700"), "未知自选股分组")
        assert_refused(await session.modify("Tech", ADD, "HK.99999"), "未知股票：HK.99999")
        assert_refused(await session.modify("Tech", ADD), "未指定股票：securityList为空")
        assert_refused(
            await session.modify("Tech", 9, "HK.00700"),
            "未知自选股操作9，应为1添加、2删除或3移出分组",
        )


async def test_a_modification_over_quota_is_refused_and_changes_nothing() -> None:
    quotas = {3214: Quota(1, 30.0), 3213: None}
    async with Simulator(quotas=quotas) as sim, session_with(sim) as session:
        assert_ok(await session.modify("Tech", ADD, UNLISTED_HK_STOCK))
        tech = await session.codes("Tech")
        response = await session.modify("Tech", ADD, UNLISTED_US_STOCK)
        assert response.retType == -1
        assert "Modify user security too frequent" in response.retMsg
        assert await session.codes("Tech") == tech
    assert [record.over_quota for record in sim.requests if record.proto_id == 3214] == [
        False,
        True,
    ]


# --- 3222 --------------------------------------------------------------------


async def test_the_group_list_puts_system_groups_first_with_their_kind(
    session: Session,
) -> None:
    groups = await session.group_names(3)
    kinds = [kind for _, kind in groups]
    assert kinds == sorted(kinds, reverse=True)  # all 2s (system), then all 1s (custom)
    assert groups[0] == ("全部", 2)
    assert groups[-3:] == [("Tech", 1), ("Macro", 1), ("A", 1)]
    assert await session.group_names(1) == [("Tech", 1), ("Macro", 1), ("A", 1)]
    assert await session.group_names(2) == groups[:-3]


@pytest.mark.parametrize("group_type", [0, 4, -1])
async def test_a_group_list_of_an_unknown_kind_is_refused_with_the_kinds_that_exist(
    session: Session, group_type: int
) -> None:
    response = await session.client.call(
        GET_USER_SECURITY_GROUP,
        user_security_group(group_type),
        Qot_GetUserSecurityGroup_pb2.Response,
    )
    assert response.retType == -1
    assert response.retMsg == (
        f"Unknown watchlist group type {group_type} (expected 1 custom, 2 system or 3 all)"
    )
    assert not response.HasField("s2c")
