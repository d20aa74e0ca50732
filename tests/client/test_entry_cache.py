"""Watchlist entries are decoded once and recognised by their bytes afterwards."""

from __future__ import annotations

import gc
import itertools
import queue
import threading

import pytest

from asyncquote import OpenDError, ProtocolError, SecurityStaticInfo
from asyncquote._client import entry_cache
from asyncquote._client.entry_cache import _CHUNK, EntryCache
from asyncquote._models.convert import static_info_from_pb, static_infos_from_pb
from asyncquote._pb import Qot_Common_pb2, Qot_GetUserSecurity_pb2, Raw_GetUserSecurity_pb2

from ..golden import BY_NAME

DERIVATIVES = BY_NAME["get_user_security_response_derivatives"]


def reply(entries: list[Qot_Common_pb2.SecurityStaticInfo]) -> bytes:
    response = Qot_GetUserSecurity_pb2.Response(retType=0)
    response.s2c.staticInfoList.extend(entries)
    return response.SerializeToString()


def stock(n: int) -> Qot_Common_pb2.SecurityStaticInfo:
    info = Qot_Common_pb2.SecurityStaticInfo()
    basic = info.basic
    basic.security.market = 1
    basic.security.code = f"{n:05d}"
    basic.id = n
    basic.lotSize = 100
    basic.secType = 3
    basic.name = f"Stock {n}"
    basic.listTime = "2004-06-16"
    return info


def entries_of(body: bytes) -> list[Qot_Common_pb2.SecurityStaticInfo]:
    return list(Qot_GetUserSecurity_pb2.Response.FromString(body).s2c.staticInfoList)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the entries the cache builds models for, in order."""
    ids: list[int] = []
    real = entry_cache.static_info_from_pb

    def counting(pb: Qot_Common_pb2.SecurityStaticInfo) -> SecurityStaticInfo:
        ids.append(pb.basic.id)
        return real(pb)

    monkeypatch.setattr(entry_cache, "static_info_from_pb", counting)
    return ids


def raw_entries(body: bytes) -> list[bytes]:
    return list(Raw_GetUserSecurity_pb2.Response.FromString(body).s2c.staticInfoList)


def test_the_raw_view_reads_each_entry_as_its_own_serialised_bytes() -> None:
    body = DERIVATIVES.body
    parsed = entries_of(body)
    raws = raw_entries(body)
    assert len(raws) == len(parsed) > 0
    for raw, entry in zip(raws, parsed, strict=True):
        assert Qot_Common_pb2.SecurityStaticInfo.FromString(raw) == entry


def test_decoding_a_reply_gives_what_converting_it_directly_gives() -> None:
    body = DERIVATIVES.body
    assert EntryCache().decode_reply(body) == static_infos_from_pb(entries_of(body))


def test_a_changed_reply_builds_models_only_for_entries_not_seen_before(
    built: list[int],
) -> None:
    cache = EntryCache()
    first = cache.decode_reply(reply([stock(n) for n in range(5)]))
    changed = reply([stock(n) for n in (1, 2, 3, 4, 5)])  # 0 out, 5 in
    second = cache.decode_reply(changed)
    assert built == [0, 1, 2, 3, 4, 5]
    assert second[:4] == first[1:]
    assert all(a is b for a, b in zip(second[:4], first[1:], strict=True))
    assert second[4].basic.id == 5
    assert cache.decode_reply(changed) == second
    assert built == [0, 1, 2, 3, 4, 5], "nothing new: nothing built"


def test_a_known_small_reply_with_entries_in_both_generations_gives_the_same_models(
    built: list[int],
) -> None:
    # A small reply whose entries are all young is taken without the
    # decoding loop; one with some entries aged into the old generation (or
    # a repeated entry) must still come back whole, nothing built again.
    cache = EntryCache(size=4, window=16)
    group = reply([stock(n) for n in (0, 1, 2, 0)])
    first = cache.decode_reply(group)
    assert cache.decode_reply(group) == first  # admitted to the main cache (young)
    assert all(a is b for a, b in zip(cache.decode_reply(group), first, strict=True))
    other = reply([stock(n) for n in (3, 4)])
    for _ in range(3):
        cache.decode_reply(other)  # young fills up and becomes old
    built.clear()
    again = cache.decode_reply(group)
    assert all(a is b for a, b in zip(again, first, strict=True))
    assert len(again) == 4
    assert built == []


def test_one_off_entries_are_not_retained(built: list[int]) -> None:
    cache = EntryCache(size=64, window=8)
    one_off = reply([stock(n) for n in range(5)])
    cache.decode_reply(one_off)
    # Many replies of entries never seen again (a cold watchlist each time).
    for start in range(100, 1100, 50):
        cache.decode_reply(reply([stock(n) for n in range(start, start + 50)]))
        assert cache.admitted == 0, "an entry seen once was admitted to the main cache"
        assert len(cache) <= 2 * 8 + _CHUNK, "the window holds more than its bound"
    built.clear()
    cache.decode_reply(one_off)
    assert built == [0, 1, 2, 3, 4], "the one-off reply's models were still kept"


def test_an_entry_asked_for_again_is_admitted_and_outlives_one_off_traffic(
    built: list[int],
) -> None:
    cache = EntryCache(size=64, window=8)
    kept = reply([stock(0)])
    model = cache.decode_reply(kept)[0]
    assert cache.decode_reply(kept)[0] is model  # found in the window: admitted
    assert cache.admitted == 1
    for start in range(100, 1100, 50):
        cache.decode_reply(reply([stock(n) for n in range(start, start + 50)]))
    built.clear()
    assert cache.decode_reply(kept)[0] is model
    assert built == []


def test_an_entry_seen_again_after_leaving_the_window_is_admitted(built: list[int]) -> None:
    # A large group polled now and then: its entries leave the window before
    # the next poll, but the doorkeeper remembers them.
    cache = EntryCache(size=1024, window=8)
    group = reply([stock(n) for n in range(200)])
    cache.decode_reply(group)
    assert cache.admitted == 0
    second = cache.decode_reply(group)
    assert cache.admitted == 200
    built.clear()
    third = cache.decode_reply(group)
    assert built == []
    assert all(a is b for a, b in zip(second, third, strict=True))


def test_the_cache_stays_bounded_and_keeps_what_is_still_asked_for(built: list[int]) -> None:
    cache = EntryCache(size=4, window=2)
    kept = reply([stock(0)])
    cache.decode_reply(kept)
    kept_model = cache.decode_reply(kept)[0]
    for n in range(1, 40):
        # Each entry twice: every one is admitted to the main cache.
        changing = reply([stock(n), stock(n + 100)])
        cache.decode_reply(changing)
        cache.decode_reply(changing)
        assert cache.admitted <= 2 * 4 + _CHUNK
        assert len(cache) <= 2 * 4 + 2 * 2 + 2 * _CHUNK
        if n % 2 == 0:
            built.clear()
            assert cache.decode_reply(kept)[0] is kept_model
            assert built == []
    cache.clear()
    assert len(cache) == 0


def test_an_entry_not_asked_for_is_eventually_forgotten(built: list[int]) -> None:
    cache = EntryCache(size=2, window=1)
    forgotten = reply([stock(0)])
    cache.decode_reply(forgotten)
    cache.decode_reply(forgotten)
    for n in range(1, 10):
        cache.decode_reply(reply([stock(n)]))
        cache.decode_reply(reply([stock(n)]))
    built.clear()
    cache.decode_reply(forgotten)
    assert built == [0]


@pytest.mark.parametrize("scale", [1.5, 2.5])
def test_a_known_group_larger_than_a_generation_is_not_decoded_again(
    built: list[int], scale: float
) -> None:
    size = 256
    body = reply([stock(n) for n in range(int(scale * size))])
    cache = EntryCache(size=size, window=16)
    for _ in range(3):
        cache.decode_reply(body)
    built.clear()
    cache.decode_reply(body)
    assert built == [], "entries of a group polled over and over were decoded again"


def test_an_aged_out_generation_is_freed_a_few_entries_at_a_time() -> None:
    size = 64
    cache = EntryCache(size=size, window=4)
    main = cache._main
    most_freed_at_once = 0
    previous = 0
    rotations = 0
    for start in range(0, 20 * size, 16):
        body = reply([stock(n) for n in range(start, start + 16)])
        for _ in range(2):  # seen twice: 16 admissions
            retiring = main.retiring
            retiring_before = len(retiring)
            cache.decode_reply(body)
            if main.retiring is not retiring:
                # A generation aged out: the one before had been freed bit by
                # bit already, not left to be dropped now all at once.
                rotations += 1
                assert len(retiring) == 0, f"{len(retiring)} entries freed at once"
            else:
                most_freed_at_once = max(most_freed_at_once, retiring_before - len(retiring))
            previous = max(previous, len(main.retiring))
    assert previous > 0, "no generation aged out: the test did not test anything"
    assert rotations > 1
    assert 0 < most_freed_at_once <= 2 * 16, "an aged-out generation was freed at once"
    assert cache.admitted <= 2 * size + _CHUNK


def test_a_large_reply_decodes_in_slices_that_give_the_same_models() -> None:
    body = reply([stock(n) for n in range(1000)])
    decoding = EntryCache().start(body)
    slices = 1
    while not decoding.step(0):  # one chunk of entries per slice
        slices += 1
    assert slices > 10
    assert decoding.models == static_infos_from_pb(entries_of(body))
    assert decoding.step(0), "a finished decoding stays finished"


def test_decoding_never_switches_the_cyclic_gc(monkeypatch: pytest.MonkeyPatch) -> None:
    # The collector's switch is process-wide and belongs to the application:
    # no check-then-set around it can be safe against another thread (issue 20, item 7).
    switched: list[str] = []
    monkeypatch.setattr(gc, "disable", lambda: switched.append("disable"))
    monkeypatch.setattr(gc, "enable", lambda: switched.append("enable"))
    cache = EntryCache()
    cache.decode_reply(reply([stock(n) for n in range(3 * _CHUNK)]))
    decoding = cache.start(reply([stock(n) for n in range(1000, 1000 + 3 * _CHUNK)]))
    while not decoding.step(0):
        pass
    broken = Raw_GetUserSecurity_pb2.Response(retType=0)
    broken.s2c.staticInfoList.append(b"\x0a\x02\x08")  # basic: truncated
    with pytest.raises(ProtocolError):
        cache.decode_reply(broken.SerializeToString())
    assert switched == []


def test_a_gc_switch_made_by_another_thread_during_a_slice_is_kept() -> None:
    # Another thread sets the collector while a slice is decoding; what it set
    # last must hold afterwards. The thread acts at a known point inside the
    # slice (the conversion of an entry), so the check does not depend on luck.
    cache = EntryCache()
    requests: queue.Queue[bool | None] = queue.Queue()
    done: queue.Queue[bool] = queue.Queue()
    last_set: list[bool] = []

    def application_thread() -> None:
        while (enable := requests.get()) is not None:
            if enable:
                gc.enable()
            else:
                gc.disable()
            last_set.append(enable)
            done.put(enable)

    wanted = itertools.cycle([False, True, False, False, True, True])

    def converting(pb: Qot_Common_pb2.SecurityStaticInfo) -> SecurityStaticInfo:
        requests.put(next(wanted))
        done.get(timeout=10)
        return static_info_from_pb(pb)

    thread = threading.Thread(target=application_thread, daemon=True)
    thread.start()
    was_enabled = gc.isenabled()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(entry_cache, "static_info_from_pb", converting)
            for round_ in range(6):
                first = 100 * round_
                cache.decode_reply(reply([stock(n) for n in range(first, first + 1 + round_)]))
                assert gc.isenabled() == last_set[-1], (
                    f"round {round_}: the application thread last set the GC "
                    f"{'on' if last_set[-1] else 'off'}, the decoding left it "
                    f"{'on' if gc.isenabled() else 'off'}"
                )
    finally:
        requests.put(None)
        thread.join(timeout=10)
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


def test_an_entry_lacking_a_required_field_is_a_protocol_error_naming_it() -> None:
    incomplete = stock(2)
    incomplete.basic.ClearField("name")
    # Serialising a message without its required fields needs partial=True.
    response = Raw_GetUserSecurity_pb2.Response(retType=0)
    response.s2c.staticInfoList.append(stock(1).SerializeToString())
    response.s2c.staticInfoList.append(incomplete.SerializePartialToString())
    with pytest.raises(
        ProtocolError, match=r"GetUserSecurity\.Response.*staticInfoList\[1\].*basic\.name"
    ):
        EntryCache().decode_reply(response.SerializeToString())


def test_a_bad_entry_after_known_and_new_ones_is_named_by_its_position() -> None:
    # Positions past the first chunk, with entries found in the cache before
    # it: the error still names the entry's index in the reply.
    cache = EntryCache()
    known = [stock(n) for n in range(100)]
    cache.decode_reply(reply(known))
    cache.decode_reply(reply(known))
    incomplete = stock(9999)
    incomplete.basic.ClearField("name")
    response = Raw_GetUserSecurity_pb2.Response(retType=0)
    for info in [*known, *(stock(n) for n in range(500, 570))]:
        response.s2c.staticInfoList.append(info.SerializeToString())
    response.s2c.staticInfoList.append(incomplete.SerializePartialToString())
    with pytest.raises(ProtocolError, match=r"staticInfoList\[170\].*basic\.name"):
        cache.decode_reply(response.SerializeToString())
    fine = [*known, stock(600)]
    assert cache.decode_reply(reply(fine)) == [static_info_from_pb(pb) for pb in fine]


def test_a_refusal_raises_opend_error() -> None:
    body = BY_NAME["get_user_security_response_error"].body
    with pytest.raises(OpenDError) as info:
        EntryCache().decode_reply(body)
    assert info.value.proto_id == 3213


@pytest.mark.parametrize(
    "body",
    [b"\xff\xff\xff", reply([stock(1)])[:-3], b""],
    ids=["garbage", "truncated", "no-ret-type"],
)
def test_a_malformed_reply_is_a_protocol_error_naming_the_real_message(body: bytes) -> None:
    with pytest.raises(ProtocolError, match=r"Qot_GetUserSecurity\.Response"):
        EntryCache().decode_reply(body)


def test_a_malformed_entry_inside_a_well_formed_reply_is_a_protocol_error() -> None:
    response = Raw_GetUserSecurity_pb2.Response(retType=0)
    response.s2c.staticInfoList.append(b"\x0a\x02\x08")  # basic: truncated
    with pytest.raises(ProtocolError, match=r"Qot_GetUserSecurity\.Response"):
        EntryCache().decode_reply(response.SerializeToString())


@pytest.mark.parametrize("kwargs", [{"size": 0}, {"window": 0}, {"size": True}])
def test_a_size_below_one_is_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        EntryCache(**kwargs)


def test_the_doorkeeper_forgets_everything_once_full(built: list[int]) -> None:
    # size=1: the doorkeeper takes 4 digests, then starts afresh.
    cache = EntryCache(size=1, window=1)
    once = reply([stock(0)])
    cache.decode_reply(once)
    for n in range(1, 3):  # 3 digests in all: 0 is still remembered
        cache.decode_reply(reply([stock(n)]))
    cache.decode_reply(once)
    assert cache.admitted == 1, "seen before, out of the window: admitted"
    cache.clear()
    for n in range(10, 15):  # 5 new digests: a reset, after which 0 is forgotten
        cache.decode_reply(reply([stock(n)]))
    cache.decode_reply(once)
    assert cache.admitted == 0


def test_an_entry_twice_among_new_ones_is_built_once_and_admitted(built: list[int]) -> None:
    # A chunk of new entries that repeats one of them: the second copy is the
    # first's model, found in the window (so admitted), not built again.
    cache = EntryCache()
    entries = [stock(n) for n in range(10)]
    result = cache.decode_reply(reply([*entries, stock(3), *(stock(n) for n in range(10, 20))]))
    assert built == list(range(20))
    assert result[10] is result[3]
    assert cache.admitted == 1
    assert result == [static_info_from_pb(pb) for pb in [*entries, stock(3)]] + [
        static_info_from_pb(stock(n)) for n in range(10, 20)
    ]


def test_a_new_chunk_with_one_entry_the_doorkeeper_knows_admits_only_that_one(
    built: list[int],
) -> None:
    cache = EntryCache(size=1024, window=8)
    cache.decode_reply(reply([stock(0)]))
    for start in (100, 150):  # stock(0) leaves the window (a chunk may overshoot it)
        cache.decode_reply(reply([stock(n) for n in range(start, start + 50)]))
    assert cache.admitted == 0
    built.clear()
    result = cache.decode_reply(reply([*(stock(n) for n in range(200, 230)), stock(0)]))
    assert built == [*range(200, 230), 0]
    assert cache.admitted == 1
    built.clear()
    assert cache.decode_reply(reply([stock(0)])) == [result[-1]]
    assert built == []
