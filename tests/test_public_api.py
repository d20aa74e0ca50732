"""The public API is what ``asyncquote`` and ``asyncquote.sim`` export: pinned here.

Adding a name is a decision (and a CHANGELOG entry); removing or renaming one
breaks users. A change to either list below must be deliberate.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "asyncquote": [
        "DEFAULT_QUOTAS",
        "ApiQuotaChanged",
        "AsyncQuoteError",
        "ConnectError",
        "ConnectionInfo",
        "ConnectionLostError",
        "ConnectionState",
        "ConnectionStateChanged",
        "Event",
        "FutureStaticExData",
        "GatewayEvent",
        "GatewayEventType",
        "GatewayNotReadyError",
        "GatewayStatus",
        "GlobalState",
        "GroupType",
        "InvalidArgumentError",
        "LoginStatusChanged",
        "Market",
        "MarketState",
        "ModifyOp",
        "NotSubscribedError",
        "NotifyType",
        "OpenDError",
        "OptionStaticExData",
        "OptionType",
        "ProgramStatus",
        "ProgramStatusChanged",
        "ProgramStatusType",
        "ProtocolError",
        "Quota",
        "QuotaMode",
        "QuotaStatus",
        "QuoteClient",
        "QuoteRight",
        "QuoteRights",
        "QuoteRightsChanged",
        "RateLimitError",
        "RateLimiter",
        "ReconnectPolicy",
        "RequestTimeoutError",
        "Security",
        "SecurityStaticBasic",
        "SecurityStaticInfo",
        "SecurityType",
        "Subscription",
        "SubscriptionQuotaError",
        "SystemGroup",
        "UsageError",
        "UsedQuotaChanged",
        "WarrantStaticExData",
        "WarrantType",
        "WatchError",
        "WatchEvent",
        "WatchlistChange",
        "WatchlistGroup",
        "WatchlistWatcher",
        "__version__",
        "connect",
        "to_dataframe",
        "to_rows",
    ],
    "asyncquote.sim": [
        "FAULT_NAMES",
        "GATEWAY_STATUSES",
        "NO_QUOTAS",
        "OPEND_QUOTAS",
        "SYSTEM_GROUP_NAMES",
        "Faults",
        "GatewayState",
        "GroupType",
        "ModifyOp",
        "Quota",
        "RequestRecord",
        "Simulator",
        "StateFile",
        "StateFileError",
        "StatusChange",
        "WatchlistGroup",
        "WatchlistStore",
        "format_code",
        "parse_code",
        "parse_fault_spec",
        "parse_quota_spec",
        "parse_quota_specs",
        "parse_status_change",
        "serve",
    ],
    "asyncquote.testing": [
        "FAST_QUOTAS",
        "OpenD",
        "OpenDOptions",
        "QuotaPreset",
        "RequestLog",
        "scaled_quotas",
        "static_info",
        "watchlist_store",
    ],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_exactly_the_pinned_public_api(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_every_exported_name_exists_and_is_ours(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        value = getattr(module, name)  # AttributeError: exported but missing
        owner = getattr(value, "__module__", None)
        if isinstance(owner, str) and not name.startswith("__"):
            # Defined by asyncquote (unions report "typing" or "types"; constants have none).
            assert owner.startswith(("asyncquote", "typing", "types")), (name, owner)


def test_errors_form_one_tree_under_async_quote_error() -> None:
    import asyncquote

    errors = [
        getattr(asyncquote, name)
        for name in asyncquote.__all__
        if isinstance(getattr(asyncquote, name), type)
        and issubclass(getattr(asyncquote, name), BaseException)
    ]
    assert len(errors) == 12
    for error in errors:
        assert issubclass(error, asyncquote.AsyncQuoteError), error
