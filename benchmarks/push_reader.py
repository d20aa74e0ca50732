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

import hashlib
import json
import socket
import struct
import sys
import time
from typing import Any

from .push_plan import Tally, report

_FIRST_PUSH_WAIT = 5.0


async def _asyncquote(host: str, port: int, spec: dict[str, Any]) -> None:
    import anyio

    from asyncquote import BasicQuote, SubType, connect

    codes: list[str] = spec["codes"]
    tally = Tally(codes, spec)
    latest: dict[str, BasicQuote] = {}
    async with (
        connect(host, port) as client,
        client.subscribe(codes, [SubType.QUOTE]) as stream,
    ):
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
    tally = Tally(codes, spec)
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(proto_id: int, serial: int, body: bytes) -> None:
        digest = hashlib.sha1(body).digest()
        header = _HEADER.pack(b"FT", proto_id, 0, 0, serial, len(body), digest, bytes(8))
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
    if not ready:
        report({"ready": False, "first": len(latest)})
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
