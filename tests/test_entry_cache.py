"""Watchlist entries are decoded once and recognised by their bytes afterwards."""

from __future__ import annotations

import pytest

from asyncquote import OpenDError, ProtocolError
from asyncquote._convert import static_infos_from_pb
from asyncquote._entry_cache import EntryCache
from asyncquote._pb import Qot_Common_pb2, Qot_GetUserSecurity_pb2, Raw_GetUserSecurity_pb2

from .golden import BY_NAME

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


class CountingParse:
    """Records whether the cache had to parse the whole reply."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0

    def __call__(self) -> list[Qot_Common_pb2.SecurityStaticInfo]:
        self.calls += 1
        return entries_of(self.body)


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


def test_a_changed_reply_builds_models_only_for_entries_not_seen_before() -> None:
    cache = EntryCache()
    first_body = reply([stock(n) for n in range(5)])
    first = cache.decode_reply(first_body)
    changed = reply([stock(n) for n in (1, 2, 3, 4, 5)])  # 0 out, 5 in
    parse = CountingParse(changed)
    second = cache.decode(raw_entries(changed), parse)
    assert parse.calls == 1
    assert second[:4] == first[1:]
    assert all(a is b for a, b in zip(second[:4], first[1:], strict=True))
    assert second[4].basic.id == 5
    again = CountingParse(changed)
    assert cache.decode(raw_entries(changed), again) == second
    assert again.calls == 0, "nothing new: the reply was not parsed in full"


def test_the_cache_stays_bounded_and_keeps_what_is_still_asked_for() -> None:
    cache = EntryCache(size=4)
    kept = reply([stock(0)])
    kept_model = cache.decode_reply(kept)[0]
    for n in range(1, 40):
        cache.decode_reply(reply([stock(n), stock(n + 100)]))
        assert len(cache) <= 2 * 4 + 2
        if n % 2 == 0:
            parse = CountingParse(kept)
            assert cache.decode(raw_entries(kept), parse)[0] is kept_model
            assert parse.calls == 0
    cache.clear()
    assert len(cache) == 0


def test_an_entry_not_asked_for_is_eventually_forgotten() -> None:
    cache = EntryCache(size=2)
    forgotten = reply([stock(0)])
    cache.decode_reply(forgotten)
    for n in range(1, 10):
        cache.decode_reply(reply([stock(n)]))
    parse = CountingParse(forgotten)
    cache.decode(raw_entries(forgotten), parse)
    assert parse.calls == 1


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


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        EntryCache(size=0)
