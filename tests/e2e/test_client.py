"""The public client end to end against the simulator over real loopback TCP."""

from __future__ import annotations

import anyio
import pytest

import asyncquote
from asyncquote._models.convert import static_infos_from_pb
from asyncquote.sim import NO_QUOTAS, Simulator

from ..conftest import Runner

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


async def test_get_user_security_returns_the_simulators_watchlist_as_models() -> None:
    async with Simulator(port=0) as sim, asyncquote.connect(sim.host, sim.port) as client:
        with anyio.fail_after(10):
            items = await client.get_user_security("All")
    expected = static_infos_from_pb(sim.watchlists.securities_in("All"))
    assert items == expected
    assert len(items) > 5
    assert all(isinstance(item, asyncquote.SecurityStaticInfo) for item in items)
    codes = {str(item.security) for item in items}
    assert {"HK.00700", "US.AAPL", "HK.800000", "HK.HSImain"} <= codes


async def test_the_sample_data_has_every_kind_of_security() -> None:
    async with Simulator(port=0) as sim, asyncquote.connect(sim.host, sim.port) as client:
        with anyio.fail_after(10):
            items = await client.get_user_security("All")
    by_type = {item.basic.sec_type for item in items}
    assert {
        asyncquote.SecurityType.STOCK,
        asyncquote.SecurityType.IDX,
        asyncquote.SecurityType.FUTURE,
        asyncquote.SecurityType.DRVT,
        asyncquote.SecurityType.WARRANT,
    } <= by_type
    future = next(i for i in items if i.basic.sec_type == asyncquote.SecurityType.FUTURE)
    assert future.future_ex_data is not None
    assert future.future_ex_data.is_main_contract is True
    option = next(i for i in items if i.option_ex_data is not None)
    assert option.warrant_ex_data is None
    assert option.future_ex_data is None


@pytest.mark.parametrize(
    ("chinese", "english"), [("全部", "All"), ("港股", "HK"), ("美股", "US"), ("期货", "Futures")]
)
async def test_chinese_and_english_system_group_names_give_the_same_list(
    chinese: str, english: str
) -> None:
    async with Simulator(port=0) as sim, asyncquote.connect(sim.host, sim.port) as client:
        with anyio.fail_after(10):
            assert await client.get_user_security(chinese) == await client.get_user_security(
                english
            )


async def test_an_unknown_group_raises_opend_error_and_the_client_stays_usable() -> None:
    async with Simulator(port=0) as sim, asyncquote.connect(sim.host, sim.port) as client:
        with anyio.fail_after(10):
            with pytest.raises(asyncquote.OpenDError, match="Unknown watchlists") as info:
                await client.get_user_security("no such group")
            assert info.value.ret_type == -1
            assert info.value.proto_id == 3213
            assert await client.get_user_security("Tech")


async def test_many_concurrent_callers_share_one_connection() -> None:
    groups = ["All", "HK", "US", "Tech", "全部", "港股"] * 50
    results: list[tuple[str, int]] = []
    async with (
        Simulator(port=0, quotas=NO_QUOTAS) as sim,
        asyncquote.connect(sim.host, sim.port, quotas={3213: None}) as client,
    ):

        async def call(group: str) -> None:
            results.append((group, len(await client.get_user_security(group))))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for group in groups:
                    tg.start_soon(call, group)
        assert client.connection.pending_count == 0
    assert len({record.conn_id for record in sim.requests}) == 1
    expected = {g: len(sim.watchlists.securities_in(g)) for g in set(groups)}
    assert sorted(results) == sorted((g, expected[g]) for g in groups)


async def test_the_handshake_reports_the_gateways_connection_details() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port, client_id="my-bot") as client,
    ):
        info = client.info
    assert info.client_id == "my-bot"
    assert info.conn_id > 0
    assert info.keepalive_interval > 0
    assert "conn_aes_key" not in repr(info), "keys are never printed"


async def test_two_connections_get_distinct_client_ids_and_connection_ids() -> None:
    async with (
        Simulator(port=0) as sim,
        asyncquote.connect(sim.host, sim.port) as first,
        asyncquote.connect(sim.host, sim.port) as second,
    ):
        assert first.info.client_id != second.info.client_id
        assert first.info.conn_id != second.info.conn_id


async def test_calls_after_the_block_raise_connection_lost() -> None:
    async with Simulator(port=0) as sim, asyncquote.connect(sim.host, sim.port) as client:
        pass
    with pytest.raises(asyncquote.ConnectionLostError, match="closed by the client"):
        await client.get_user_security("All")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"connect_timeout": "soon"}, "connect_timeout"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
    ],
)
async def test_bad_connect_arguments_raise_invalid_argument(
    kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(asyncquote.InvalidArgumentError, match=match):
        async with asyncquote.connect(**kwargs):  # type: ignore[arg-type]
            pass
