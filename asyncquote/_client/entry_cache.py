"""Watchlist entries decoded once: models kept by the bytes they came from.

Building the models is most of the cost of a watchlist reply (about 3 µs per
security), and the same entries come back again and again: each poll of a
group repeats most of the last reply, and a security in a custom group is in
the "All" group too. OpenD sends an entry as the same bytes every time it is
unchanged, so those bytes are a key to the models already built from them.
The reply is first read with a wire-compatible view in which each entry is
plain bytes (``Raw_GetUserSecurity``, about 0.01 µs per entry); only entries
not found are decoded, from one parse of the whole reply. The models are
immutable, so sharing them between results is safe.

What is kept is chosen as in W-TinyLFU, so that a reply seen once (a
watchlist never asked for before) leaves few long-lived objects behind:
every new entry goes into a small *window*; an entry asked for again, or
seen before by the *doorkeeper* (a bounded set of entry digests, which are
ints: nothing for the cyclic GC to scan), is admitted to the *main* cache. Both
are bounded by generations (a hit costs a dict lookup, not LRU upkeep), and
a main generation that ages out is freed a few entries per entry stored,
not thousands at once.

Decoding is sliced (:meth:`EntryCache.start` and :meth:`ReplyDecoding.step`)
so that a caller on an event loop can let other tasks run between slices of a
large reply. The cyclic GC is left alone: its switch is process-wide and
belongs to the application (a check-and-restore around a slice would undo a
``gc.disable()`` made meanwhile by another thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter

from google.protobuf.message import DecodeError

from .._base.errors import ProtocolError
from .._models.convert import static_info_from_pb
from .._models.watchlist import SecurityStaticInfo
from .._opend.codec import parse_response
from .._opend.vocabulary import ProtoId
from .._pb import Qot_Common_pb2, Qot_GetUserSecurity_pb2, Raw_GetUserSecurity_pb2

__all__ = [
    "DEFAULT_ENTRY_CACHE_SIZE",
    "DEFAULT_WINDOW_SIZE",
    "SLICE_SECONDS",
    "EntryCache",
    "ReplyDecoding",
]

#: Entries per main generation: about twice this many are kept at most (a
#: generation ages between replies, so one reply's entries more at worst).
DEFAULT_ENTRY_CACHE_SIZE = 4096
#: Entries per window generation: new entries not (yet) admitted to the main cache.
DEFAULT_WINDOW_SIZE = 512
#: How long one slice of a reply may decode before letting other tasks run.
#: The loop is then held for about this long, plus one parse of the reply.
SLICE_SECONDS = 0.001
# Entries decoded between two looks at the clock (and at the generations' bounds,
# which a chunk may overshoot): 64 new entries take about 0.3 ms here.
_CHUNK = 64
# Entries of an aged-out main generation freed per entry stored (admitted,
# moved up from the old generation, or put in the window): at least twice
# the rate at which the young one fills, so it is gone before the next ages out.
_FREE_PER_STORE = 2
# Digests the doorkeeper remembers, per entry of a main generation: enough
# for a group larger than a generation to be seen twice between resets.
_DOORKEEPER_PER_ENTRY = 4


class _Doorkeeper:
    """Which entry digests were seen before, up to ``capacity`` of them.

    Consulted inline by :meth:`ReplyDecoding.step`, for every new entry.

    The digests are the entries' ``hash()`` (computed for the dict lookups
    anyway, and kept by each ``bytes``), so nothing of the entry itself is
    kept: a set of ints, with no object the cyclic GC tracks but the set.
    When it has taken ``capacity`` digests (looked at once per chunk of
    entries, so up to a chunk more) it forgets them all, so it never fills
    up (as TinyLFU's doorkeeper is reset). A Bloom filter would be
    smaller, but its false positives would admit one-off entries at random.
    """

    __slots__ = ("capacity", "digests")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.digests: set[int] = set()


class _Generations:
    """Models by entry bytes in two generations, with the aged-out third freed bit by bit."""

    __slots__ = ("_gradual", "_size", "old", "retiring", "young")

    def __init__(self, size: int, *, gradual: bool) -> None:
        self._size = size
        # Whether an aged-out generation is freed bit by bit (free_some) or
        # at once (a small one: the window's).
        self._gradual = gradual
        self.young: dict[bytes, SecurityStaticInfo] = {}
        self.old: dict[bytes, SecurityStaticInfo] = {}
        # Aged out: no longer looked up, freed a few entries at a time.
        self.retiring: dict[bytes, SecurityStaticInfo] = {}

    def __len__(self) -> int:
        """Entries that can be found (the aged-out ones cannot)."""
        return len(self.young) + len(self.old)

    @property
    def alive(self) -> int:
        """Entries still held, aged-out ones included."""
        return len(self.young) + len(self.old) + len(self.retiring)

    def age_if_full(self) -> None:
        """Once the young generation is full it becomes the old one."""
        if len(self.young) >= self._size:
            # Whatever has not been freed yet goes at once (not reached
            # at the default rate, which frees it within half a generation).
            self.retiring = self.old if self._gradual else {}
            self.old = self.young
            self.young = {}

    def free_some(self, count: int) -> None:
        """Free up to ``count`` aged-out entries."""
        retiring = self.retiring
        for _ in range(min(count, len(retiring))):
            retiring.popitem()

    def clear(self) -> None:
        self.young.clear()
        self.old.clear()
        self.retiring.clear()


class EntryCache:
    """Models of watchlist entries, keyed by the entry's serialised bytes.

    Args:
        size: entries per generation of the main cache (two generations).
        window: entries per generation of the window (two generations),
            where entries seen once wait to be asked for again.
    """

    def __init__(
        self, size: int = DEFAULT_ENTRY_CACHE_SIZE, window: int = DEFAULT_WINDOW_SIZE
    ) -> None:
        for name, value in (("size", size), ("window", window)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        self._main = _Generations(size, gradual=True)
        self._window = _Generations(window, gradual=False)
        self._doorkeeper = _Doorkeeper(_DOORKEEPER_PER_ENTRY * size)

    def __len__(self) -> int:
        """Models held: the window, the main cache, and aged-out entries not yet freed."""
        return self._main.alive + self._window.alive

    @property
    def admitted(self) -> int:
        """Entries in the main cache: those asked for more than once."""
        return len(self._main)

    def clear(self) -> None:
        """Forget every entry, and that any was ever seen."""
        self._main.clear()
        self._window.clear()
        self._doorkeeper.digests.clear()

    def decode_reply(self, body: bytes) -> list[SecurityStaticInfo]:
        """The entries of a protocol 3213 reply body, as models, in one go.

        Raises:
            OpenDError: the reply's ``retType`` is not 0.
            ProtocolError: the body is not a valid ``Qot_GetUserSecurity.Response``.
        """
        decoding = self.start(body)
        while not decoding.step(float("inf")):
            pass  # not reached: one unbounded step decodes everything
        return decoding.models

    def start(self, body: bytes) -> ReplyDecoding:
        """Begin decoding a protocol 3213 reply body; :meth:`ReplyDecoding.step` goes on.

        Only the raw view is read here (cheap even for thousands of entries),
        so that a refusal is known at once.

        Raises:
            OpenDError: the reply's ``retType`` is not 0.
            ProtocolError: the body is not a valid ``Qot_GetUserSecurity.Response``.
        """
        # The usual reply (parsed, complete, a success) without the three
        # Python calls of parse_response: a sequential call's cost is mostly
        # such calls. Anything else takes parse_response, which says why.
        raw = Raw_GetUserSecurity_pb2.Response()
        try:
            raw.ParseFromString(body)
            usual = raw.retType == 0 and raw.IsInitialized()
        except DecodeError:
            usual = False
        if not usual:
            raw = _checked_raw(body)
        # The main cache ages between replies, never within one: a group
        # larger than a generation would otherwise retire its own first
        # entries before reaching its last, and be decoded again every poll.
        self._main.age_if_full()
        return ReplyDecoding(self, body, raw.s2c.staticInfoList)


def _checked_raw(body: bytes) -> Raw_GetUserSecurity_pb2.Response:
    """The raw view of a reply body, checked.

    Raises:
        OpenDError: the reply's ``retType`` is not 0.
        ProtocolError: the body is not a valid ``Qot_GetUserSecurity.Response``.
    """
    try:
        return parse_response(
            Raw_GetUserSecurity_pb2.Response, body, proto_id=ProtoId.GET_USER_SECURITY
        )
    except ProtocolError:
        # The view is laxer than the real message, so this raises too,
        # with an error that names the message OpenD meant to send.
        parse_response(Qot_GetUserSecurity_pb2.Response, body, proto_id=ProtoId.GET_USER_SECURITY)
        raise


def _parse(body: bytes) -> Sequence[Qot_Common_pb2.SecurityStaticInfo]:
    """The entries of the whole reply, parsed once (their required fields are the converter's).

    The repeated field itself, not a list of its messages: each message's
    Python wrapper is made when indexed and freed once converted, rather
    than thousands of them kept (and tracked by the cyclic GC) until the
    reply is done.
    """
    response = parse_response(
        Qot_GetUserSecurity_pb2.Response,
        body,
        proto_id=ProtoId.GET_USER_SECURITY,
        check_required=False,
    )
    return response.s2c.staticInfoList


class ReplyDecoding:
    """One reply being turned into models, a slice at a time (see :meth:`step`)."""

    __slots__ = ("_body", "_cache", "_next", "_parsed", "_raw", "models")

    def __init__(self, cache: EntryCache, body: bytes, raw: Sequence[bytes]) -> None:
        self._cache = cache
        self._body = body
        self._raw = raw
        self._next = 0
        self._parsed: Sequence[Qot_Common_pb2.SecurityStaticInfo] | None = None
        #: The models so far, in reply order; complete once :meth:`step` returned True.
        self.models: list[SecurityStaticInfo] = []

    def step(self, seconds: float | None = None) -> bool:
        """Decode entries for about ``seconds`` (:data:`SLICE_SECONDS` by default).

        Returns whether the reply is done. At least one chunk of entries is
        decoded per call, however short ``seconds`` is.

        Raises:
            ProtocolError: an entry is malformed or lacks a required field.
        """
        raws = self._raw
        end = len(raws)
        index = self._next
        if index >= end:
            return True
        if index == 0 and end <= _CHUNK:
            # A small reply whose entries are all in the young generation
            # (a group asked for again): what the loop below would do for
            # it, without its set-up, in C calls only. Else the loop.
            batch = raws[:]
            young = self._cache._main.young
            if young.keys() >= set(batch):
                self.models = list(map(young.__getitem__, batch))
                self._next = end
                return True
        cache = self._cache
        main, window, doorkeeper = cache._main, cache._window, cache._doorkeeper
        digests, capacity = doorkeeper.digests, doorkeeper.capacity
        # Looked up here, not imported by name into the loop: tests count calls.
        convert = static_info_from_pb
        parsed = self._parsed
        models = self.models
        append = models.append
        deadline = perf_counter() + (SLICE_SECONDS if seconds is None else seconds)
        while index < end:
            stop = min(index + _CHUNK, end)
            # Looked up per chunk: another reply's slice may have aged
            # the generations since.
            young, old = main.young, main.old
            find = young.get
            window_young, window_old = window.young, window.old
            stored = 0
            batch = raws[index:stop]
            # A chunk of entries never seen (the cold path: a watchlist never
            # asked for), done with C loops: found in no generation, no two
            # alike, none known to the doorkeeper. Then each entry is what the
            # loop below would make of it: converted, its digest remembered,
            # put in the window, in reply order. Anything else takes the loop.
            if (
                young.keys().isdisjoint(batch)
                and (not old or old.keys().isdisjoint(batch))
                and window_young.keys().isdisjoint(batch)
                and (not window_old or window_old.keys().isdisjoint(batch))
            ):
                hashes = set(map(hash, batch))
                if len(hashes) == len(batch) and digests.isdisjoint(hashes):
                    if parsed is None:
                        parsed = self._parsed = _parse(self._body)
                    try:
                        new = list(map(convert, parsed[index:stop]))
                    except ProtocolError:
                        new = None  # the loop raises it, naming the entry
                    if new is not None:
                        digests |= hashes
                        window_young.update(zip(batch, new, strict=True))
                        models += new
                        stored = len(new)
                        batch = ()
            # A slice of the repeated field, not indexing it entry by
            # entry: a list made at once is cheaper to go through.
            for raw in batch:
                model = find(raw)
                if model is None:
                    # An empty generation is not asked (it often is,
                    # in a cache that sees only new entries).
                    model = old.pop(raw, None) if old else None
                    if model is None:
                        # Asked for again while in the window: admitted.
                        model = window_young.pop(raw, None)
                        if model is None and window_old:
                            model = window_old.pop(raw, None)
                        if model is None:
                            if parsed is None:
                                parsed = self._parsed = _parse(self._body)
                            position = len(models)  # one model per entry before it
                            try:
                                model = convert(parsed[position])
                            except ProtocolError as exc:
                                raise _entry_error(position, exc) from None
                            # The doorkeeper, inlined (it runs for every new entry).
                            digest = hash(raw)
                            if digest not in digests:
                                digests.add(digest)
                                window_young[raw] = model
                                stored += 1
                                append(model)
                                continue
                    young[raw] = model
                    stored += 1
                append(model)
            index = stop
            # Only a chunk that stored something can have filled a
            # generation: one whose entries were all found (a known
            # reply) skips this upkeep.
            if stored:
                if len(digests) >= capacity:
                    digests.clear()  # TinyLFU's reset
                main.free_some(_FREE_PER_STORE * stored)
                window.age_if_full()
            if perf_counter() >= deadline:
                break
        # (A decoding that raised is dropped by its caller: nothing to undo.)
        self._next = index
        if index < end:
            return False
        self._parsed = None  # the parsed reply is not kept with the result
        return True


def _entry_error(position: int, exc: ProtocolError) -> ProtocolError:
    """The error for a malformed entry, naming the message and the entry."""
    return ProtocolError(
        f"{Qot_GetUserSecurity_pb2.Response.DESCRIPTOR.full_name} in protocol "
        f"{ProtoId.GET_USER_SECURITY} body: staticInfoList[{position}]: {exc}"
    )
