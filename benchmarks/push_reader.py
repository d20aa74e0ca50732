"""Readers of the push benchmark that use asyncquote's code; one per process.

``python -m benchmarks.push_reader KIND HOST PORT SPEC`` where KIND is

* ``asyncquote``: ``client.subscribe(codes, [SubType.QUOTE])`` read as a bot
  reads it: ``async for update in stream``, reading each update's code,
  price, volume and stamp, keeping the newest :class:`BasicQuote` per code;
* ``raw``: the floor. A blocking socket, the InitConnect and Qot_Sub a
  gateway insists on, then a loop that splits frames with :mod:`struct`
  and parses each 3005 push with the generated protobuf classes, keeping
  ``(price, volume, stamp)`` per security. No checksum check, no models,
  no event loop.

SPEC is a JSON object: ``codes``, ``count`` (the plan's updates), ``timeout``
(seconds to wait for the final state once ready), ``latency`` (record each
update's stamp-to-reader time) and optionally ``profile`` (a file for the
asyncquote reader's cProfile of its reading loop). The reader reports
``{"ready": true}`` once subscribed and the current state has arrived, and
then its result (see :func:`benchmarks.push_plan.report`).
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from typing import Any

from .push_plan import VOLUME_BASE, final_volumes, percentile, report

_FIRST_PUSH_WAIT = 5.0


class _Tally:
    """What a reader saw: the final states reached, stale updates, latencies."""

    def __init__(self, codes: list[str], spec: dict[str, Any]) -> None:
        self.final = dict(zip(codes, final_volumes(spec["count"], len(codes)), strict=True))
        self.newest: dict[str, int] = {}
        self.done: set[str] = set()
        self.latency = bool(spec["latency"])
        self.latencies: list[float] = []
        self.delivered = 0
        self.stale = 0
        self.done_ns = 0

    def see(self, code: str, volume: int, stamp: float) -> bool:
        """One planned update read; whether the final state of every security is now held."""
        if volume < VOLUME_BASE:
            return False  # the current state pushed on subscribing
        self.delivered += 1
        if self.latency:
            self.latencies.append(time.time_ns() / 1e9 - stamp)
        if volume < self.newest.get(code, 0):
            self.stale += 1
        self.newest[code] = volume
        if volume == self.final[code]:
            self.done.add(code)
            if len(self.done) == len(self.final):
                self.done_ns = time.time_ns()
                return True
        return False

    def result(self, **extra: object) -> dict[str, object]:
        ordered = sorted(self.latencies)
        out: dict[str, object] = {
            "final_ok": len(self.done) == len(self.final),
            "missing": len(self.final) - len(self.done),
            "done_ns": self.done_ns,
            "delivered": self.delivered,
            "stale": self.stale,
        }
        if self.latency:
            out["p50_ms"] = percentile(ordered, 0.50) * 1e3
            out["p99_ms"] = percentile(ordered, 0.99) * 1e3
            out["max_ms"] = (ordered[-1] if ordered else float("nan")) * 1e3
        out.update(extra)
        return out


async def _asyncquote(host: str, port: int, spec: dict[str, Any]) -> None:
    import anyio

    from asyncquote import BasicQuote, SubType, connect

    codes: list[str] = spec["codes"]
    tally = _Tally(codes, spec)
    latest: dict[str, BasicQuote] = {}
    async with connect(host, port) as client:
        async with client.subscribe(codes, [SubType.QUOTE]) as stream:
            with anyio.move_on_after(_FIRST_PUSH_WAIT):
                async for update in stream:
                    if isinstance(update, BasicQuote):
                        latest[update.code] = update
                        if len(latest) == len(codes):
                            break
            report({"ready": True, "first": len(latest)})
            profiler = None
            if spec.get("profile"):
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            with anyio.move_on_after(spec["timeout"]):
                async for update in stream:
                    if not isinstance(update, BasicQuote):
                        continue  # a StreamGap: none is expected here
                    # What a bot reads of a quote, and keeps.
                    code = update.code
                    _price = update.cur_price
                    latest[code] = update
                    if tally.see(code, update.volume, update.turnover):
                        break
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(spec["profile"])
            report(tally.result(superseded=stream.superseded, dropped=stream.dropped))


_HEADER = struct.Struct("<2sIBBII20s8s")


def _raw(host: str, port: int, spec: dict[str, Any]) -> None:
    from asyncquote._opend.vocabulary import parse_code
    from asyncquote._pb import InitConnect_pb2, Qot_Common_pb2, Qot_Sub_pb2, Qot_UpdateBasicQot_pb2

    codes: list[str] = spec["codes"]
    tally = _Tally(codes, spec)
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(proto_id: int, serial: int, body: bytes) -> None:
        header = _HEADER.pack(b"FT", proto_id, 0, 0, serial, len(body), bytes(20), bytes(8))
        sock.sendall(header + body)

    init = InitConnect_pb2.Request()
    init.c2s.clientVer = 300
    init.c2s.clientID = "benchmark-raw-push"
    init.c2s.recvNotify = False
    init.c2s.packetEncAlgo = -1
    send(1001, 1, init.SerializeToString())
    sub = Qot_Sub_pb2.Request()
    for code in codes:
        market, symbol = parse_code(code)
        sub.c2s.securityList.append(Qot_Common_pb2.Security(market=int(market), code=symbol))
    sub.c2s.subTypeList.append(1)
    sub.c2s.isSubOrUnSub = True
    sub.c2s.isRegOrUnRegPush = True
    sub.c2s.isFirstPush = True
    send(3001, 2, sub.SerializeToString())

    names = {}
    for code in codes:
        market, symbol = parse_code(code)
        names[(int(market), symbol)] = code
    # The floor keeps (price, volume, stamp) per security, keyed as the wire says.
    latest: dict[tuple[int, str], tuple[float, int, float]] = {}
    buffer = bytearray()
    parse = Qot_UpdateBasicQot_pb2.Response.FromString
    header_size = _HEADER.size
    ready = False
    deadline = time.monotonic() + _FIRST_PUSH_WAIT
    sock.settimeout(0.2)
    done = False
    while not done:
        if not ready and (len(latest) == len(codes) or time.monotonic() > deadline):
            ready = True
            report({"ready": True, "first": len(latest)})
            deadline = time.monotonic() + spec["timeout"]
        elif ready and time.monotonic() > deadline:
            break
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            continue
        if not chunk:
            break
        buffer += chunk
        offset = 0
        while len(buffer) - offset >= header_size:
            proto_id = int.from_bytes(buffer[offset + 2 : offset + 6], "little")
            size = int.from_bytes(buffer[offset + 12 : offset + 16], "little")
            end = offset + header_size + size
            if end > len(buffer):
                break
            if proto_id == 3005:
                response = parse(bytes(buffer[offset + header_size : end]))
                for quote in response.s2c.basicQotList:
                    security = quote.security
                    key = (security.market, security.code)
                    volume = quote.volume
                    stamp = quote.turnover
                    latest[key] = (quote.curPrice, volume, stamp)
                    if ready and tally.see(names[key], volume, stamp):
                        done = True
            offset = end
        del buffer[:offset]
    sock.close()
    report(tally.result())


def main(argv: list[str]) -> int:
    kind, host, port, spec_text = argv
    spec = json.loads(spec_text)
    if kind == "asyncquote":
        import anyio

        anyio.run(_asyncquote, host, int(port), spec)
    elif kind == "raw":
        _raw(host, int(port), spec)
    else:
        raise SystemExit(f"unknown reader {kind!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
