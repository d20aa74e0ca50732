"""The tests tree mirrors the package: each private module has its unit tests, found by name.

``asyncquote/_io/wire.py`` is tested by ``tests/io/test_wire.py``; a folder's
leading underscore is dropped, and so is a module's (``asyncquote/sim/_peer.py``
is tested by ``tests/sim/test_peer.py``). A module without a test module of its
own is listed in ``UNTESTED`` with the reason; a test module in a mirrored
folder that names no module is listed in ``CROSS_MODULE`` with what it tests.
Both lists are checked for entries that no longer hold, so neither can rot.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "asyncquote"
TESTS = ROOT / "tests"

#: Each folder of the package, and the tests folder that mirrors it.
MIRRORED = {
    "_base": "base",
    "_opend": "opend",
    "_models": "models",
    "_io": "io",
    "_client": "client",
    "_quotes": "quotes",
    "_cli": "cli",
    "sim": "sim",
    "testing": "testing",
}

#: Modules without a test module of their own, each with where it is tested instead.
UNTESTED: dict[str, str] = {
    "asyncquote/__main__.py": (
        "two lines calling the CLI's main(); tests/cli/test_commands.py runs it"
    ),
    # -- _base
    "asyncquote/_base/deprecated.py": "the old paths: tests/repo/test_deprecated_paths.py",
    "asyncquote/_base/errors.py": (
        "exception classes; each raised and caught by the tests of its raiser"
    ),
    "asyncquote/_base/install.py": (
        "its hints are run as commands by tests/repo/test_install_lines.py"
    ),
    "asyncquote/_base/public.py": "public homes: tests/repo/test_public_api.py checks __module__",
    "asyncquote/_base/states.py": "one enum; its transitions are tests/io/test_session.py's",
    "asyncquote/_base/version.py": "one constant, checked by tests/repo/test_public_api.py",
    # -- _cli
    "asyncquote/_cli/main.py": "exit codes of every command: tests/cli/test_commands.py",
    "asyncquote/_cli/start.py": "a quiet Ctrl-C while importing: tests/cli/test_commands.py",
    "asyncquote/_cli/table.py": (
        "the watchlist table, as the CLI prints it: tests/cli/test_commands.py"
    ),
    "asyncquote/_cli/types.py": "each option's bad text, table-driven: tests/cli/test_parser.py",
    # -- _client
    "asyncquote/_client/client.py": (
        "the watchlist methods need a gateway: tests/e2e/test_client.py, "
        "tests/e2e/test_client_watchlist.py"
    ),
    "asyncquote/_client/connect.py": (
        "connect() needs a gateway: tests/e2e/test_client.py; its argument checks "
        "tests/base/test_args.py"
    ),
    "asyncquote/_client/options.py": "connect()'s options, each bad one: tests/base/test_args.py",
    "asyncquote/_client/state_view.py": (
        "state_changes() across a reconnect: tests/e2e/test_reconnect.py; views: "
        "tests/io/test_broadcast.py"
    ),
    "asyncquote/_client/throttle.py": (
        "the throttled warnings of bad pushes: tests/models/test_notify.py"
    ),
    # -- _quotes
    "asyncquote/_quotes/live.py": (
        "pushes to streams, reconnects and Notify's quota, over a socket: "
        "tests/quotes/test_client.py"
    ),
    "asyncquote/_quotes/state.py": "the book's snapshot models: tests/quotes/test_book.py",
    # -- _io
    "asyncquote/_io/connection_options.py": (
        "a frozen dataclass the connection reads: tests/io/test_connection.py"
    ),
    # -- _models
    "asyncquote/_models/events.py": (
        "the event models, made from pushes: tests/models/test_notify.py"
    ),
    "asyncquote/_models/health.py": (
        "the status models, made from replies: tests/models/test_notify.py, "
        "tests/client/test_monitor.py"
    ),
    "asyncquote/_models/quotes.py": (
        "the live-quote models, made from protobuf: tests/models/test_quote_convert.py"
    ),
    "asyncquote/_models/market_data.py": (
        "the ticker, time-share, K-line and broker models, made from protobuf: "
        "tests/models/test_market_data_convert.py"
    ),
    "asyncquote/_models/snapshots.py": (
        "the snapshot models, made from protobuf: tests/models/test_quote_convert.py"
    ),
    "asyncquote/_models/snapshot_convert.py": (
        "snapshots from protobuf, beside quotes: tests/models/test_quote_convert.py"
    ),
    # -- _opend
    "asyncquote/_opend/aes.py": (
        "known answers and PyCryptodome interop: tests/opend/test_crypto.py"
    ),
    "asyncquote/_opend/cipher.py": "the cipher interface, NoCipher: tests/opend/test_crypto.py",
    "asyncquote/_opend/rsa.py": "key loading, RSA known answers: tests/opend/test_crypto.py",
    "asyncquote/_opend/health_vocabulary.py": "enums and their texts: tests/models/test_notify.py",
    "asyncquote/_opend/loss.py": (
        "each loss as drivers report it: tests/io/test_wire.py, tests/opend/test_protocol.py"
    ),
    "asyncquote/_opend/protocols.py": (
        "re-exported by the vocabulary: tests/opend/test_vocabulary.py"
    ),
    "asyncquote/_opend/quotes.py": (
        "live-quote enums and limits: tests/opend/test_vocabulary.py, "
        "tests/interop/test_protos_match_sdk.py"
    ),
    # -- sim
    "asyncquote/sim/_accept.py": (
        "the accept loop over TCP: tests/sim/test_server.py, tests/sim/test_websocket_abuse.py"
    ),
    "asyncquote/sim/_connections.py": (
        "open connections, closed at once: tests/sim/test_listening.py"
    ),
    "asyncquote/sim/_gateway_control.py": (
        "logging out and in, scheduled changes: tests/sim/test_gateway.py, tests/sim/test_push.py"
    ),
    "asyncquote/sim/_handlers.py": "the route table, driven by tests/sim/test_dispatch.py",
    "asyncquote/sim/_notify.py": "Notify bodies from the event models: tests/sim/test_push.py",
    "asyncquote/sim/_state.py": "state objects the handlers share: tests/sim/test_dispatch.py",
    "asyncquote/sim/_texts.py": (
        "OpenD's refusal texts: tests/sim/test_quotas.py, tests/sim/test_gateway.py"
    ),
    "asyncquote/sim/_watchlist_groups.py": (
        "one group and the system groups' rules: tests/sim/test_watchlists.py"
    ),
    "asyncquote/sim/_websocket_transport.py": (
        "one WebSocket connection: tests/sim/test_websocket.py, tests/sim/test_websocket_abuse.py"
    ),
    "asyncquote/sim/_market_control.py": (
        "the market's task and pushes: tests/sim/test_quote_pushes.py, tests/testing/test_market.py"
    ),
    "asyncquote/sim/_market_models.py": "the market's frozen values: tests/sim/test_market.py",
    "asyncquote/sim/_quote_handlers.py": (
        "the live-quote requests, served: tests/sim/test_quotes.py"
    ),
    "asyncquote/sim/_market_data_messages.py": (
        "market data as protobuf: tests/sim/test_market_data_handlers.py, "
        "tests/sim/test_market_data_pushes.py"
    ),
    "asyncquote/sim/_quote_messages.py": (
        "market values as protobuf: tests/sim/test_quotes.py, tests/sim/test_quote_pushes.py"
    ),
    "asyncquote/sim/_serve.py": (
        "serve() until cancelled: tests/sim/test_server.py, tests/sim/test_persistence.py"
    ),
    "asyncquote/sim/_server_views.py": (
        "the simulator's read-only properties: tests/sim/test_server.py"
    ),
    # -- testing
    "asyncquote/testing/_gateway.py": (
        "the OpenD handle in its thread: tests/testing/test_client_fixtures.py, "
        "tests/testing/test_gateway_option.py"
    ),
    "asyncquote/testing/_options.py": "the marker's options: tests/testing/test_helpers.py",
    "asyncquote/testing/_requests.py": "the request log: tests/testing/test_helpers.py",
    "asyncquote/testing/_securities.py": "watchlists from a dict: tests/testing/test_helpers.py",
}

#: Test modules in mirrored folders that test more than one module, each with what.
CROSS_MODULE: dict[str, str] = {
    "tests/quotes/test_book_machine.py": (
        "the subscription book against a fake OpenD, a Hypothesis state machine"
    ),
    "tests/sim/test_abuse.py": (
        "the whole simulator abused: descriptors, silent clients, state files"
    ),
    "tests/sim/test_cli_sim.py": "asyncquote sim's fault, seed and key options, CLI to simulator",
    "tests/sim/test_encryption.py": "the simulator's RSA handshake and AES bodies, end to end",
    "tests/sim/test_fuzz_fronts.py": "Hypothesis against both fronts, TCP and WebSocket",
    "tests/sim/test_modify.py": "protocol 3214 over TCP: handlers, watchlists, groups",
    "tests/sim/test_push.py": "Notify pushes over TCP: gateway control, notify bodies, the writer",
    "tests/sim/test_quote_pushes.py": (
        "quote pushes over TCP and WebSocket: market control, backlog"
    ),
    "tests/sim/test_quotes.py": "live-quote requests over TCP: handlers, subscriptions, market",
    "tests/sim/test_websocket_abuse.py": "misbehaving WebSocket clients, frame level",
    "tests/sim/test_websocket_cli.py": "asyncquote sim's WebSocket options, CLI to simulator",
    "tests/testing/test_gateway_option.py": "the gateway option: marker, OpenD handle, simulator",
    "tests/testing/test_helpers.py": (
        "the helpers behind the fixtures: options, securities, requests"
    ),
}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def modules() -> list[Path]:
    """Every hand-written module of the package but the packages' ``__init__``."""
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" and "_pb" not in path.relative_to(PACKAGE).parts
    )


def unit_tests_for(module: Path) -> Path | None:
    """Where ``module``'s unit tests belong, or None for a module outside the folders."""
    parts = module.relative_to(PACKAGE).parts
    if len(parts) != 2 or parts[0] not in MIRRORED:
        return None
    return TESTS / MIRRORED[parts[0]] / f"test_{parts[1].removeprefix('_')}"


def module_named_by(test: Path) -> Path | None:
    """The module a test module in a mirrored folder names, if there is one."""
    folder = {tests: package for package, tests in MIRRORED.items()}[test.parent.name]
    name = test.name.removeprefix("test_")
    for candidate in (name, f"_{name}"):
        if (PACKAGE / folder / candidate).is_file():
            return PACKAGE / folder / candidate
    return None


def mirrored_tests() -> list[Path]:
    return sorted(
        path for folder in MIRRORED.values() for path in (TESTS / folder).glob("test_*.py")
    )


def test_every_module_has_its_test_module_or_a_reason() -> None:
    missing = [
        relative(module)
        for module in modules()
        if relative(module) not in UNTESTED
        and ((test := unit_tests_for(module)) is None or not test.is_file())
    ]
    assert missing == []


def test_every_test_module_in_a_mirrored_folder_names_a_module_or_says_what_it_tests() -> None:
    strays = [
        relative(test)
        for test in mirrored_tests()
        if module_named_by(test) is None and relative(test) not in CROSS_MODULE
    ]
    assert strays == []


def test_no_test_module_sits_at_the_root_of_tests() -> None:
    assert sorted(path.name for path in TESTS.glob("test_*.py")) == []


def test_no_exception_outlives_its_reason() -> None:
    stale = [name for name in UNTESTED if not (ROOT / name).is_file()]
    stale += [
        name
        for name in UNTESTED
        if (test := unit_tests_for(ROOT / name)) is not None and test.is_file()
    ]
    stale += [name for name in CROSS_MODULE if not (ROOT / name).is_file()]
    stale += [name for name in CROSS_MODULE if module_named_by(ROOT / name) is not None]
    assert stale == []


def test_every_test_file_a_reason_names_exists() -> None:
    named = {
        path
        for reason in [*UNTESTED.values(), *CROSS_MODULE.values()]
        for path in re.findall(r"tests/[\w/]+\.py", reason)
    }
    assert sorted(path for path in named if not (ROOT / path).is_file()) == []
