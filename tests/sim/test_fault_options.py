"""The ``Faults`` options themselves: validation, parsing of ``--fault`` specs, seeding."""

from __future__ import annotations

import random
import re

import pytest

from asyncquote.sim import FAULT_NAMES, Faults, parse_fault_spec
from asyncquote.sim.faults import picks


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"reorder": 1}, ValueError, "reorder must be >= 2"),
        ({"reorder": 2.5}, TypeError, "reorder must be a whole number"),
        ({"reorder": True}, TypeError, "reorder must be a whole number"),
        ({"reorder": 4, "reorder_wait": -1}, ValueError, "reorder_wait must be"),
        ({"shuffle": 1}, TypeError, "shuffle must be True or False"),
        ({"corrupt_sha1": 0}, ValueError, "corrupt_sha1 must be >= 1"),
        ({"garbage": 0.0}, ValueError, r"garbage as a probability must be in \(0, 1\]"),
        ({"duplicate": 1.5}, ValueError, "duplicate as a probability"),
        ({"unknown_serial": "1"}, TypeError, "unknown_serial must be an int n"),
        ({"corrupt_sha1": True}, TypeError, "corrupt_sha1 must be an int n"),
        ({"drop_after": -1}, ValueError, "drop_after must be >= 0"),
        ({"truncate_after": 1.0}, TypeError, "truncate_after must be a whole number"),
        ({"oversize_after": None, "silence_after": -2}, ValueError, "silence_after must be"),
        ({"handshake_delay": float("inf")}, ValueError, "handshake_delay must be"),
        ({"refuse_handshake": "yes"}, TypeError, "refuse_handshake must be True or False"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"reorder": 4, "reply_delay": 0.1}, ValueError, "cannot be combined"),
        ({"shuffle": True}, ValueError, "shuffle needs reorder"),
    ],
)
def test_options_that_make_no_sense_are_refused_naming_the_option(
    options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Faults(**options)  # type: ignore[arg-type]


def test_a_zero_reply_delay_may_go_with_reorder() -> None:
    assert Faults(reorder=3, reply_delay=0).reorder == 3


@pytest.mark.parametrize(
    "options",
    [
        {"reply_delay": 0.1},
        {"reorder": 2},
        {"corrupt_sha1": 1},
        {"garbage": 0.5},
        {"unknown_serial": 3},
        {"duplicate": 1},
        {"drop_after": 0},
        {"truncate_after": 5},
        {"oversize_after": 0},
        {"silence_after": 0},
        {"handshake_delay": 0.5},
        {"refuse_handshake": True},
    ],
)
def test_every_option_switches_the_faulty_path_on(options: dict[str, object]) -> None:
    assert Faults(**options).active  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options", [{}, {"seed": 3}, {"reply_delay": 0}, {"handshake_delay": 0.0}, {"reorder_wait": 1}]
)
def test_options_that_change_nothing_keep_the_fast_path(options: dict[str, object]) -> None:
    assert not Faults(**options).active  # type: ignore[arg-type]


def test_every_nth_picks_by_number_without_touching_the_generator() -> None:
    rng = random.Random(1)
    state = rng.getstate()
    assert [n for n in range(1, 10) if picks(3, n, rng)] == [3, 6, 9]
    assert [n for n in range(1, 4) if picks(1, n, rng)] == [1, 2, 3]
    assert not picks(None, 5, rng)
    assert rng.getstate() == state


def test_a_probability_picks_about_that_share_reproducibly() -> None:
    first = [picks(0.25, n, random.Random(9)) for n in range(1, 2001)]
    rng = random.Random(9)
    again = [picks(0.25, n, rng) for n in range(1, 2001)]
    assert 400 < sum(again) < 600
    assert again != first  # each call above drew afresh; one generator draws a sequence
    rng = random.Random(9)
    assert [picks(0.25, n, rng) for n in range(1, 2001)] == again


def test_each_connection_gets_its_own_reproducible_generator() -> None:
    faults = Faults(seed=42)
    first = [faults.rng_for(conn_id).random() for conn_id in (1, 2, 3)]
    assert [faults.rng_for(conn_id).random() for conn_id in (1, 2, 3)] == first
    assert len(set(first)) == 3
    assert Faults(seed=43).rng_for(1).random() != first[0]


def test_describe_lists_the_options_switched_on_in_cli_spelling() -> None:
    faults = Faults(reorder=4, shuffle=True, corrupt_sha1=0.25, drop_after=10, seed=3)
    assert faults.describe() == "reorder=4 shuffle corrupt-sha1=0.25 drop-after=10 seed=3"
    assert Faults(reply_delay=(0.01, 0.2)).describe() == "reply-delay=0.01:0.2"
    assert Faults().describe() == "none"


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("reply-delay=0.5", ("reply_delay", 0.5)),
        ("reply_delay=0.01:0.2", ("reply_delay", (0.01, 0.2))),
        ("reorder=4", ("reorder", 4)),
        ("shuffle", ("shuffle", True)),
        ("reorder-wait=0.2", ("reorder_wait", 0.2)),
        ("corrupt-sha1", ("corrupt_sha1", 1)),
        ("corrupt-sha1=3", ("corrupt_sha1", 3)),
        ("corrupt-sha1=0.1", ("corrupt_sha1", 0.1)),
        ("garbage=1e-2", ("garbage", 0.01)),
        ("Unknown-Serial=2", ("unknown_serial", 2)),
        ("duplicate", ("duplicate", 1)),
        ("drop-after=0", ("drop_after", 0)),
        ("truncate-after=3", ("truncate_after", 3)),
        ("oversize-after=1", ("oversize_after", 1)),
        ("silence-after=2", ("silence_after", 2)),
        ("handshake-delay=1.5", ("handshake_delay", 1.5)),
        ("refuse-handshake", ("refuse_handshake", True)),
    ],
)
def test_fault_specs_parse_into_faults_arguments(spec: str, parsed: tuple[str, object]) -> None:
    assert parse_fault_spec(spec) == parsed
    name, value = parsed
    Faults(**{name: value, "reorder": 2 if name == "shuffle" else None})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown fault 'nope'; expected one of: reply-delay, reorder, shuffle"),
        ("reorder=four", "fault 'reorder=four': 'four' is not a whole number"),
        ("reorder=1", "fault 'reorder=1': reorder must be >= 2"),
        ("reply-delay=a:b", "is not seconds, or LOW:HIGH seconds"),
        ("reply-delay=0.2:0.1", "low > high"),
        ("corrupt-sha1=0", "corrupt_sha1 must be >= 1"),
        ("garbage=2.0", r"garbage as a probability must be in \(0, 1\]"),
        ("drop-after", "fault 'drop-after' needs a value: a whole number of requests"),
        ("drop-after=", "needs a value"),
        ("refuse-handshake=yes", "refuse-handshake takes no value"),
        ("handshake-delay=-1", "handshake_delay must be a finite number of seconds >= 0"),
    ],
)
def test_fault_specs_that_make_no_sense_are_refused_with_the_reason(
    spec: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault_spec(spec)


def test_the_documented_names_are_exactly_the_options_but_the_seed() -> None:
    options = [field.replace("_", "-") for field in Faults.__dataclass_fields__]
    assert list(FAULT_NAMES) == [name for name in options if name != "seed"]


# One example value per option: adding a fault to Faults fails this test until
# it has one, and then --fault, --help and describe() know it with no more edits.
_EXAMPLES: dict[str, object] = {
    "reply_delay": (0.01, 0.2),
    "reorder": 4,
    "shuffle": True,
    "reorder_wait": 0.1,
    "corrupt_sha1": 0.5,
    "garbage": 3,
    "unknown_serial": 2,
    "duplicate": 1,
    "drop_after": 0,
    "truncate_after": 5,
    "oversize_after": 6,
    "silence_after": 7,
    "handshake_delay": 1.5,
    "refuse_handshake": True,
}


def test_every_option_round_trips_through_describe_and_the_fault_syntax() -> None:
    assert [name.replace("_", "-") for name in _EXAMPLES] == list(FAULT_NAMES)
    for name, value in _EXAMPLES.items():
        extra: dict[str, object] = {"reorder": 2} if name == "shuffle" else {}
        faults = Faults(**{name: value, **extra})  # type: ignore[arg-type]
        specs = faults.describe().split()
        assert dict(map(parse_fault_spec, specs)) == {name: value, **extra}


def test_the_help_text_names_every_option() -> None:
    from asyncquote.sim.faults import FAULT_USAGE

    for name in FAULT_NAMES:
        assert re.search(rf"(^|[ |]){name}([=\[|,]|$)", FAULT_USAGE), name
