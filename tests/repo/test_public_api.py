"""The public API is what ``asyncquote`` and ``asyncquote.sim`` export: pinned here.

Adding a name is a decision (and a CHANGELOG entry); removing or renaming one
breaks users. A change to either list below must be deliberate.
"""

from __future__ import annotations

import importlib
import pickle
import types
from pathlib import Path
from typing import Any

import pytest

PUBLIC = {
    "asyncquote": [
        "DEFAULT_QUOTAS",
        "ApiQuotaChanged",
        "AssetClass",
        "AsyncQuoteError",
        "AuType",
        "BasicQuote",
        "Broker",
        "BrokerQueue",
        "ConnectError",
        "ConnectionInfo",
        "ConnectionLostError",
        "ConnectionState",
        "ConnectionStateChanged",
        "ConnectionSubscriptions",
        "ConstituentCounts",
        "DarkStatus",
        "EquitySnapshotExData",
        "Event",
        "FutureQuoteExData",
        "FutureSnapshotExData",
        "FutureStaticExData",
        "FollowStream",
        "FollowUpdate",
        "GatewayEvent",
        "GatewayEventType",
        "GatewayNotReadyError",
        "GatewayStatus",
        "GlobalState",
        "GroupType",
        "IndexOptionType",
        "InvalidArgumentError",
        "KLType",
        "KLine",
        "KLineUpdate",
        "LoginStatusChanged",
        "Market",
        "MarketState",
        "ModifyOp",
        "NotFollowed",
        "NotSubscribedError",
        "NotifyType",
        "OpenDError",
        "OptionAreaType",
        "OptionQuoteExData",
        "OptionSnapshotExData",
        "OptionStaticExData",
        "OptionType",
        "OrderBook",
        "OrderBookDetail",
        "OrderBookLevel",
        "OrderBookType",
        "PendingUnsubscribe",
        "PreAfterMarketData",
        "PriceType",
        "ProgramStatus",
        "ProgramStatusChanged",
        "ProgramStatusType",
        "ProtocolError",
        "PushDataType",
        "Quota",
        "QuotaMode",
        "QuotaStatus",
        "QuoteClient",
        "QuoteRight",
        "QuoteRights",
        "QuoteRightsChanged",
        "QuoteStream",
        "RateLimitError",
        "RateLimiter",
        "ReconnectPolicy",
        "RequestTimeoutError",
        "Security",
        "SecurityStaticBasic",
        "SecurityStaticInfo",
        "SecurityStatus",
        "Session",
        "SecurityType",
        "Snapshot",
        "SnapshotBasicData",
        "StreamDropped",
        "StreamGap",
        "SubType",
        "SubscribedPair",
        "SubscribedSecurities",
        "Subscription",
        "SubscriptionInfo",
        "SubscriptionQuota",
        "SubscriptionQuotaError",
        "SubscriptionStatus",
        "SystemGroup",
        "Ticker",
        "TickerDirect",
        "TickerType",
        "TimeSharePoint",
        "TrustSnapshotExData",
        "UnknownGroupError",
        "UsageError",
        "UsedQuotaChanged",
        "WarrantQuoteExData",
        "WarrantSnapshotExData",
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
        "BookLevel",
        "MarketBook",
        "MarketKLine",
        "MarketQuote",
        "MarketTicker",
        "MarketTimeShare",
        "NotListedError",
        "PriceError",
        "SimulatedMarket",
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
        "OpenDMarket",
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
    assert len(errors) == 13
    for error in errors:
        assert issubclass(error, asyncquote.AsyncQuoteError), error


def _exported_classes_and_functions() -> list[tuple[str, str, Any]]:
    found = []
    for module_name in sorted(PUBLIC):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, (type, types.FunctionType)):
                found.append((module_name, name, value))
    return found


EXPORTED = _exported_classes_and_functions()


def test_the_exported_classes_and_functions_are_found() -> None:
    # Guards the tests below against passing on nothing.
    assert len(EXPORTED) > 70
    assert {module for module, _, _ in EXPORTED} == set(PUBLIC)


@pytest.mark.parametrize(
    ("module_name", "name", "value"), EXPORTED, ids=[f"{m}.{n}" for m, n, _ in EXPORTED]
)
def test_every_public_class_and_function_has_a_public_home(
    module_name: str, name: str, value: Any
) -> None:
    # Tracebacks, reprs and pickles say asyncquote.OpenDError, never the
    # private module that holds the code (those move; issue 22 moved them all).
    home = value.__module__
    assert home in PUBLIC, (name, home)
    # Its own package, or the one that exported it first (asyncquote.sim
    # re-exports the vocabulary's asyncquote.Quota, ModifyOp, ...).
    assert home == module_name or name in PUBLIC[home]
    assert value.__qualname__ == name
    assert getattr(importlib.import_module(home), name) is value


@pytest.mark.parametrize(
    ("module_name", "name", "value"), EXPORTED, ids=[f"{m}.{n}" for m, n, _ in EXPORTED]
)
def test_every_public_class_and_function_pickles_by_its_public_name(
    module_name: str, name: str, value: Any
) -> None:
    data = pickle.dumps(value)
    assert value.__module__.encode() in data
    assert b"._" not in data  # no private module path in the pickle
    assert pickle.loads(data) is value


def _error_samples() -> list[BaseException]:
    import asyncquote
    import asyncquote.sim

    status = asyncquote.GatewayStatus(quote_logged_in=False)
    special: dict[type, BaseException] = {
        asyncquote.OpenDError: asyncquote.OpenDError(-1, 2, "no such group", 3213),
        asyncquote.UnknownGroupError: asyncquote.UnknownGroupError(
            "Tehc", ("Tech", "HK"), -1, 2, "no such group", 3213
        ),
        asyncquote.GatewayNotReadyError: asyncquote.GatewayNotReadyError(status),
        asyncquote.RateLimitError: asyncquote.RateLimitError(3213, 1.5, "quota"),
        asyncquote.SubscriptionQuotaError: asyncquote.SubscriptionQuotaError(3, 1, 100),
        asyncquote.NotSubscribedError: asyncquote.NotSubscribedError(
            ("HK.00700",), asyncquote.SubType.QUOTE
        ),
        asyncquote.sim.StateFileError: asyncquote.sim.StateFileError(
            Path("state.json"), "not valid JSON"
        ),
        asyncquote.sim.PriceError: asyncquote.sim.PriceError(
            "off the ladder", 400.1, (400.0, 400.2)
        ),
        asyncquote.sim.NotListedError: asyncquote.sim.NotListedError((1, "99999")),
    }
    return [
        special[value] if value in special else value("went wrong")
        for _, _, value in EXPORTED
        if isinstance(value, type) and issubclass(value, BaseException)
    ]


@pytest.mark.parametrize("error", _error_samples(), ids=lambda error: type(error).__name__)
def test_every_public_error_round_trips_through_pickle(error: BaseException) -> None:
    data = pickle.dumps(error)
    assert b"asyncquote._" not in data
    copy = pickle.loads(data)
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args


def test_public_models_round_trip_through_pickle() -> None:
    import asyncquote

    samples = [
        asyncquote.Security(market=asyncquote.Market.HK, code="00700"),
        asyncquote.WatchlistGroup(name="Tech", type=asyncquote.GroupType.CUSTOM),
        asyncquote.GatewayStatus(quote_logged_in=False),
        asyncquote.ConnectionStateChanged(
            state=asyncquote.ConnectionState.CONNECTED,
            previous=asyncquote.ConnectionState.CONNECTING,
        ),
    ]
    for sample in samples:
        data = pickle.dumps(sample)
        assert b"asyncquote._" not in data
        copy = pickle.loads(data)
        assert copy == sample
        assert type(copy) is type(sample)
        # pydantic still validates and serialises the re-homed models.
        assert type(sample).model_validate(sample.model_dump()) == sample
