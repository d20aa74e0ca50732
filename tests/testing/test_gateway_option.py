"""The ``gateway`` option and the gateway's health scripted mid-test.

Written by the lead to wire issue 14's simulator into the plugin: a test
starts OpenD in a status, or logs it out and in, and the client sees what
OpenD would tell it.
"""

from __future__ import annotations

import pytest

import asyncquote
from asyncquote._opend.health_vocabulary import GatewayEventType, ProgramStatusType
from asyncquote.sim import GatewayState
from asyncquote.testing import OpenD

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


@pytest.mark.opend(gateway="need-phone-code")
async def test_a_gateway_started_in_a_status_refuses_watchlist_calls(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    assert opend.gateway.program_status.type is ProgramStatusType.NEED_PHONE_VERIFY_CODE
    assert not opend.gateway.quote_logged_in
    with pytest.raises(asyncquote.OpenDError):
        await opend_client.get_user_security("HK")


@pytest.mark.opend(gateway=GatewayState(server_version=1001))
async def test_a_whole_gateway_state_can_be_given(opend: OpenD) -> None:
    assert opend.gateway.server_version == 1001


async def test_log_out_and_in_mid_test(opend: OpenD, opend_client: asyncquote.QuoteClient) -> None:
    await opend_client.get_user_security("HK")
    assert opend.log_out() == 1  # the one client asked for notifications
    with pytest.raises(asyncquote.OpenDError):
        await opend_client.get_user_security("HK")
    assert opend.log_in() == 1
    assert await opend_client.get_user_security("HK") != []


def test_a_bad_gateway_option_is_named_where_it_was_given(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.opend(gateway="asleep")
        def test_it(opend):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*asleep*"])


def test_change_status_names_an_unknown_status(opend: OpenD) -> None:
    with pytest.raises(ValueError, match="asleep"):
        opend.change_status("asleep")


async def test_log_out_for_a_reason_says_so(
    opend: OpenD, opend_client: asyncquote.QuoteClient
) -> None:
    opend.log_out(GatewayEventType.NEED_PHONE_VERIFY_CODE, description="code sent to 138****")
    status = opend.gateway.program_status
    assert status.type is ProgramStatusType.NEED_PHONE_VERIFY_CODE
    assert status.description == "code sent to 138****"
    with pytest.raises(asyncquote.GatewayNotReadyError, match="phone verification code"):
        await opend_client.wait_ready(timeout=0.5)
