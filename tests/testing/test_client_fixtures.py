"""The ``opend`` and ``opend_client`` fixtures in use: options, traffic, scripting.

These run in our own suite, where the installed plugin provides the
fixtures as it does for users, on asyncio, uvloop and trio.
"""

from __future__ import annotations

import pytest

import asyncquote
from asyncquote.sim import Faults
from asyncquote.testing import FAST_QUOTAS, OpenD

pytestmark = pytest.mark.anyio

TECH = ["US.AAPL", "HK.00700", "US.MADEUP", "US.QQQ260618P450500"]


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


def codes(items: list[asyncquote.SecurityStaticInfo]) -> list[str]:
    return [str(item.security) for item in items]


@pytest.mark.opend(watchlists={"Mine": ["US.NVDA"]})
async def test_named_watchlists_keep_the_sample_securities_known(
    opend_client: asyncquote.QuoteClient,
) -> None:
    await opend_client.modify_user_security("Mine", asyncquote.ModifyOp.ADD, ["US.AAPL"])
    assert codes(await opend_client.get_user_security("Mine")) == ["US.NVDA", "US.AAPL"]


@pytest.mark.opend(watchlists={"Tech": TECH})
async def test_watchlists_from_a_dict_with_real_and_made_up_static_info(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    tech = await opend_client.get_user_security("Tech")
    assert codes(tech) == TECH
    assert tech[1].basic.name == "腾讯控股"  # from the bundled sample
    assert tech[1].basic.lot_size == 100
    made_up = tech[2].basic
    assert (made_up.name, made_up.sec_type, made_up.lot_size) == (
        "MADEUP",
        asyncquote.SecurityType.STOCK,
        1,
    )
    option = tech[3]
    assert option.basic.sec_type == asyncquote.SecurityType.DRVT
    assert option.option_ex_data is not None
    assert option.option_ex_data.type == asyncquote.OptionType.PUT
    assert str(option.option_ex_data.owner) == "US.QQQ"
    assert option.option_ex_data.strike_price == 450.5
    assert option.option_ex_data.strike_time == "2026-06-18"
    # System groups are filled as OpenD fills them.
    assert codes(await opend_client.get_user_security("All")) == TECH
    assert codes(await opend_client.get_user_security("US")) == ["US.AAPL", "US.MADEUP"]
    assert codes(await opend_client.get_user_security("US options")) == ["US.QQQ260618P450500"]
    assert await opend_client.get_user_security("Futures") == []


async def test_the_bundled_sample_by_default(opend_client: asyncquote.QuoteClient) -> None:
    assert len(await opend_client.get_user_security("Tech")) == 5


@pytest.mark.opend(quotas="fast")
async def test_fast_quotas_are_met_without_a_refusal(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    assert opend_client.quota(3213).quota == FAST_QUOTAS[3213]
    for _ in range(FAST_QUOTAS[3213].max_calls + 2):
        await opend_client.get_user_security("HK")
    assert len(opend.requests.filter(3213)) == 12
    assert opend.rejections == []


@pytest.mark.opend(quotas={3213: asyncquote.Quota(1, 30.0)})
# A client that leaves the quota to the gateway, and does not retry.
@pytest.mark.opend_client(quotas={3213: None}, quota_retries=0)
async def test_the_gateway_refuses_what_its_quota_does_not_allow(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    await opend_client.get_user_security("HK")
    with pytest.raises(asyncquote.RateLimitError):
        await opend_client.get_user_security("US")
    assert opend.rejections.filter(group="US").proto_ids == [3213]


@pytest.mark.opend(faults={"reply_delay": 0.01})
async def test_faults_from_a_dict(opend: OpenD, opend_client: asyncquote.QuoteClient) -> None:
    assert opend.faults == Faults(reply_delay=0.01)
    assert len(await opend_client.get_user_security("HK")) == 6


@pytest.mark.opend(rsa_key=True)
async def test_an_encrypted_gateway_and_a_client_with_its_key(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    assert opend.call(lambda: opend.simulator.encrypted)
    assert len(await opend_client.get_user_security("港股")) == 6
    # Bodies are recorded decrypted, so groups can be asserted on.
    assert opend.requests.filter(3213, group="HK").groups == ["港股"]


async def test_requests_filtered_by_protocol_group_and_connection(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    await opend_client.get_user_security("HK")
    await opend_client.get_user_security("Tech")
    await opend_client.modify_user_security("Tech", asyncquote.ModifyOp.ADD, ["US.SPY"])
    await opend_client.get_user_security_group()
    requests = opend.requests
    assert requests.filter(3213).groups == ["HK", "Tech"]
    assert requests.filter(group="Tech").proto_ids == [3213, 3214]
    assert requests.filter(group="港股").groups == ["HK"]  # either name of a system group
    assert requests.filter(3222).groups == [None]
    (conn_id,) = requests.conn_ids
    assert requests.filter(conn_id=conn_id) == requests
    assert requests[0].proto_id == 1001
    assert requests[1:].filter(1001) == []


async def test_scripting_the_watchlist_mid_test(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    opend.set_watchlist("Tech", ["US.NVDA", "US.NEWCO"])
    assert codes(await opend_client.get_user_security("Tech")) == ["US.NVDA", "US.NEWCO"]
    opend.set_watchlist("Fresh", ["HK.09988"])
    assert codes(await opend_client.get_user_security("Fresh")) == ["HK.09988"]
    # New securities show in the system groups OpenD shows them in, as an app edit would.
    assert "US.NEWCO" in opend.watchlists["全部"]
    with pytest.raises(ValueError, match="listed twice"):
        opend.set_watchlist("Tech", ["US.NVDA", "US.NVDA"])
    assert opend.watchlists["Tech"] == ["US.NVDA", "US.NEWCO"]


async def test_dropped_connections_and_a_restart(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    await opend_client.get_user_security("HK")
    assert opend.open_connections == 1
    assert opend.drop_connections() == 1
    assert len(await opend_client.get_user_security("HK")) == 6
    await opend.restart(downtime=0.05)
    assert len(await opend_client.get_user_security("HK")) == 6
    assert len(opend.requests.filter(1001).conn_ids) == 3


async def test_refusing_connections_for_a_while(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    opend.stop_listening()
    opend.drop_connections()
    with pytest.raises(asyncquote.ConnectError):
        async with asyncquote.connect(**opend.connect_kwargs(), connect_timeout=5):
            pass
    opend.start_listening()
    assert len(await opend_client.get_user_security("HK")) == 6


@pytest.mark.parametrize(
    "opend",
    [{"language": "zh"}, {"language": "en"}],
    ids=["zh", "en"],
    indirect=True,
)
async def test_parametrised_gateways(opend: OpenD, opend_client: asyncquote.QuoteClient) -> None:
    with pytest.raises(asyncquote.OpenDError) as refused:
        await opend_client.get_user_security("no such group")
    chinese = opend.options.language == "zh"
    assert ("未知自选股分组" in refused.value.message) == chinese


@pytest.mark.opend(language="zh", quotas="off")
class TestMarkersNest:
    @pytest.mark.opend(quotas="fast")
    async def test_the_closest_marker_wins_per_option(self, opend: OpenD) -> None:
        assert opend.options.language == "zh"
        assert opend.options.quotas == "fast"


async def test_faults_changed_mid_test_apply_to_new_connections(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    opend.faults = Faults(refuse_handshake=True)
    assert opend.faults == Faults(refuse_handshake=True)
    assert len(await opend_client.get_user_security("HK")) == 6  # its connection predates them
    with pytest.raises(asyncquote.ConnectError):
        async with asyncquote.connect(**opend.connect_kwargs(), reconnect=False):
            pass
