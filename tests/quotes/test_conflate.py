"""The stream buffer: conflation, bounds and gap markers, with plain data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncquote import InvalidArgumentError
from asyncquote._quotes.conflate import ConflatingBuffer


def gap(count: int) -> tuple[str, int]:
    return ("gap", count)


def drain(buffer: ConflatingBuffer[object]) -> list[object]:
    return [buffer.pop() for _ in range(len(buffer))]


def test_updates_of_one_key_conflate_to_the_newest_in_the_first_ones_place() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(8, gap)
    buffer.put("A", "a1")
    buffer.put("B", "b1")
    buffer.put("A", "a2")
    buffer.put("A", "a3")
    assert drain(buffer) == ["a3", "b1"]
    assert buffer.superseded == 2
    assert buffer.dropped == 0


def test_items_without_a_key_are_never_conflated() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(8, gap)
    for tick in ("t1", "t2", "t3"):
        buffer.put(None, tick)
    assert drain(buffer) == ["t1", "t2", "t3"]
    assert buffer.superseded == 0


def test_a_full_buffer_drops_its_oldest_and_counts_it() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(2, gap)
    for tick in ("t1", "t2", "t3", "t4"):
        buffer.put(None, tick)
    assert len(buffer) == 2
    assert drain(buffer) == ["t3", "t4"]
    assert buffer.dropped == 2


def test_a_key_read_already_queues_again() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(4, gap)
    buffer.put("A", "a1")
    assert buffer.pop() == "a1"
    buffer.put("A", "a2")
    assert drain(buffer) == ["a2"]
    assert buffer.superseded == 0


def test_an_update_waiting_from_before_a_gap_moves_behind_the_marker() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(8, gap)
    buffer.put("A", "a1")
    buffer.put("B", "b1")
    buffer.mark_gap()
    buffer.put("A", "a2")  # after the reconnect: must not be read before the marker
    buffer.put("A", "a3")  # conflates with a2 in place, behind the marker
    assert drain(buffer) == ["b1", ("gap", 1), "a3"]
    assert buffer.superseded == 2


def test_gaps_before_the_reader_looks_are_one_marker_counting_them() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(8, gap)
    buffer.mark_gap()
    buffer.put("A", "a1")
    buffer.mark_gap()
    buffer.put("B", "b1")
    assert drain(buffer) == ["a1", ("gap", 2), "b1"]
    buffer.mark_gap()
    assert drain(buffer) == [("gap", 1)]


def test_the_gap_marker_is_never_dropped() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(1, gap)
    buffer.mark_gap()
    buffer.put(None, "t1")
    buffer.put(None, "t2")
    assert drain(buffer) == [("gap", 1), "t2"]
    assert buffer.dropped == 1


def test_pop_from_an_empty_buffer_raises_index_error() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(1, gap)
    with pytest.raises(IndexError):
        buffer.pop()


def test_clear_forgets_what_waits_but_not_the_counts() -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(4, gap)
    buffer.put("A", 1)
    buffer.put("A", 2)
    buffer.mark_gap()
    buffer.clear()
    assert len(buffer) == 0
    assert buffer.superseded == 1
    buffer.put("A", 3)
    assert drain(buffer) == [3]


@pytest.mark.parametrize("capacity", [0, -1, 1.5, True, "8"])
def test_a_bad_capacity_is_an_invalid_argument(capacity: object) -> None:
    with pytest.raises(InvalidArgumentError):
        ConflatingBuffer(capacity, gap)  # type: ignore[arg-type]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from(["A", "B", "C", None])),
        st.just(("gap", None)),
        st.just(("pop", None)),
    ),
    max_size=60,
)


@settings(max_examples=400)
@given(capacity=st.integers(1, 4), ops=operations)
def test_every_update_is_read_waiting_superseded_or_dropped_and_reads_are_fresh(
    capacity: int, ops: list[tuple[str, str | None]]
) -> None:
    buffer: ConflatingBuffer[object] = ConflatingBuffer(capacity, gap)
    latest: dict[str, int] = {}
    puts = read = 0
    last_gap = after_marker = -1
    waiting_gap: int | None = None  # when the gap a waiting marker stands for was marked
    for clock, (op, key) in enumerate(ops):
        if op == "put":
            buffer.put(key, (key, clock))
            puts += 1
            if key is not None:
                latest[key] = clock
        elif op == "gap":
            buffer.mark_gap()
            last_gap = waiting_gap = clock
        elif len(buffer):
            item = buffer.pop()
            assert isinstance(item, tuple)
            if item[0] == "gap":
                after_marker, waiting_gap = last_gap, None
                continue
            read += 1
            item_key, put_at = item
            if item_key is not None:  # a keyed read is the newest of its key
                assert put_at == latest[item_key]
            assert put_at > after_marker  # nothing from before a gap once its marker is read
            if waiting_gap is not None:  # nothing from after a gap before its marker
                assert put_at < waiting_gap
        assert len(buffer) <= capacity + 1  # the items and one marker
    waiting = sum(1 for item in drain(buffer) if item[0] != "gap")  # type: ignore[index]
    assert read + waiting + buffer.superseded + buffer.dropped == puts
