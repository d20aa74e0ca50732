"""Watchlist entries decoded once: models kept by the bytes they came from.

Building the models is most of the cost of a watchlist reply (about 3 µs per
security), and the same entries come back again and again: each poll of a
group repeats most of the last reply, and a security in a custom group is in
the "All" group too. OpenD sends an entry as the same bytes every time it is
unchanged, so those bytes are a key to the models already built from them.
The reply is first read with a wire-compatible view in which each entry is
plain bytes (``Raw_GetUserSecurity``, about 0.03 µs per entry); only entries
not seen before are decoded. The models are immutable, so sharing them
between results is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._codec import parse_response
from ._convert import static_info_from_pb
from ._errors import ProtocolError
from ._models import SecurityStaticInfo
from ._opend import ProtoId
from ._pb import Qot_Common_pb2, Qot_GetUserSecurity_pb2, Raw_GetUserSecurity_pb2

__all__ = ["DEFAULT_ENTRY_CACHE_SIZE", "EntryCache"]

#: Entries per generation: about twice this many (plus one reply) are kept at most.
DEFAULT_ENTRY_CACHE_SIZE = 4096


class EntryCache:
    """Models of watchlist entries, keyed by the entry's serialised bytes.

    Bounded by two generations rather than a strict LRU (a hit must cost no
    more than a dict lookup): entries go into the young generation; once it
    holds ``size`` entries (checked after each reply) it becomes the old one
    and the previous old one is dropped. An entry found in the old generation
    moves back to the young one, so what is still being asked for survives.
    """

    def __init__(self, size: int = DEFAULT_ENTRY_CACHE_SIZE) -> None:
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be an int >= 1, not {size!r}")
        self._size = size
        self._young: dict[bytes, SecurityStaticInfo] = {}
        self._old: dict[bytes, SecurityStaticInfo] = {}

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def clear(self) -> None:
        """Forget every entry."""
        self._young.clear()
        self._old.clear()

    def decode_reply(self, body: bytes) -> list[SecurityStaticInfo]:
        """The entries of a protocol 3213 reply body, as models.

        Raises:
            OpenDError: the reply's ``retType`` is not 0.
            ProtocolError: the body is not a valid ``Qot_GetUserSecurity.Response``.
        """

        def parse() -> Sequence[Qot_Common_pb2.SecurityStaticInfo]:
            response = parse_response(
                Qot_GetUserSecurity_pb2.Response, body, proto_id=ProtoId.GET_USER_SECURITY
            )
            return response.s2c.staticInfoList

        try:
            raw = parse_response(
                Raw_GetUserSecurity_pb2.Response, body, proto_id=ProtoId.GET_USER_SECURITY
            )
        except ProtocolError:
            # The view is laxer than the real message, so this raises too,
            # with an error that names the message OpenD meant to send.
            parse()
            raise
        return self.decode(raw.s2c.staticInfoList, parse)

    def decode(
        self,
        raw_entries: Sequence[bytes],
        parse: Callable[[], Sequence[Qot_Common_pb2.SecurityStaticInfo]],
    ) -> list[SecurityStaticInfo]:
        """The models of ``raw_entries``, building only those not seen before.

        Args:
            raw_entries: each entry's bytes, in reply order.
            parse: parses the whole reply and returns its entries, in the same
                order; called at most once, and only if an entry is new.
                Whatever it raises (a malformed entry) propagates.
        """
        young = self._young
        old = self._old
        found = young.get
        parsed: Sequence[Qot_Common_pb2.SecurityStaticInfo] | None = None
        models: list[SecurityStaticInfo] = []
        append = models.append
        for index, raw in enumerate(raw_entries):
            model = found(raw)
            if model is None:
                model = old.pop(raw, None)
                if model is None:
                    if parsed is None:
                        parsed = parse()
                    model = static_info_from_pb(parsed[index])
                young[raw] = model
            append(model)
        if len(young) >= self._size:
            self._old = young
            self._young = {}
        return models
