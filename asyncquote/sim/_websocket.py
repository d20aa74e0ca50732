"""The simulator's WebSocket gateway, which the JavaScript SDK (npm ``futu-api``) talks to.

One job: accept WebSocket connections and bridge each to the simulator's own
TCP port, as OpenD's WebSocket service bridges a browser or Node.js client
to OpenD's API port. So every request a JavaScript client makes is served by
the same dispatch as any other: the watchlists, quotas, faults and
:attr:`~._server.Simulator.requests` apply alike, and each WebSocket
connection shows as one TCP connection (its InitConnect sent by the gateway).

A connection, message by message (see :mod:`._websocket_frames` for the
header):

1. The client sends ``InitWebSocket`` (cmd 1). Its ``websocketKey`` must be
   the lowercase hex MD5 of the key the simulator was given (any key is
   accepted when it was given none). With a wrong key the gateway does not
   answer, and the SDK gives up after its 20 s wait for the reply: OpenD's
   documentation of the SDK says a client without the right key "times out".
   Otherwise the gateway opens its TCP connection, sends InitConnect, and
   replies with ``serverTime`` and the ``connID`` the simulator gave it; if
   that fails, the reply has a nonzero ``error`` and the SDK reports the
   login failed.
2. Every other message is forwarded as a request of protocol id ``cmd``, and
   its reply comes back with the request's ``section``; pushes come with
   section 0. A message other than InitWebSocket before the login is
   answered with ``error`` -1 and the errmsg ``"InitWebSocket first"``
   (the SDK itself never sends one).
3. When the TCP side closes (:meth:`~._server.Simulator.drop_connections`,
   say), the gateway pushes cmd 2 and closes the WebSocket; the SDK then
   reconnects by itself a second later.

The WebSocket port is bound for as long as the simulator runs:
:meth:`~._server.Simulator.stop_listening` and
:meth:`~._server.Simulator.restart` take only the TCP port down, and logins
fail (step 1) while it is.

What the simulator leaves out: TLS (``wss://``), and the ``IP``, ``Port``
and ``RSAPrivateKey`` of InitWebSocket (the gateway always bridges to its
own simulator, so it cannot be combined with ``rsa_key``).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import math
import time
from collections.abc import Callable

import anyio
import anyio.abc

from .._base.errors import ProtocolError
from .._opend.codec import parse_message
from .._opend.framing import Frame, FrameDecoder, encode_frame
from .._opend.handshake import initconnect_request
from .._opend.vocabulary import ProtoId
from .._pb import InitConnect_pb2, InitWebSocket_pb2
from ._accept import Link, accept_until_stopped, closing_shielded, peer_name, serve_guarded
from ._websocket_frames import (
    CMD_INIT_WEBSOCKET,
    CMD_OPEND_DISCONNECTED,
    WsMessage,
    decode_request,
    encode_reply,
)
from ._websocket_transport import WebSocketStream

__all__ = ["WebSocketGateway", "WebSocketListenError", "websocket_key_digest"]

_log = logging.getLogger("asyncquote.sim")

_RECEIVE_SIZE = 256 * 1024
_MAX_REPLY_BODY = 64 * 1024 * 1024
# Told to the simulator in the gateway's InitConnect.
_GATEWAY_CLIENT_VER = 100
_GATEWAY_CLIENT_ID = "asyncquote-websocket-gateway"
# The header's error for what the gateway itself refuses (OpenD's is not documented).
_GATEWAY_ERROR = -1
_NOT_LOGGED_IN = "InitWebSocket first"
# Seconds to spend telling a client that OpenD has gone.
_GOODBYE_TIMEOUT = 1.0
# Addresses to listen on that cannot be connected to; the gateway uses loopback.
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


def websocket_key_digest(key: str) -> str:
    """The ``websocketKey`` a client configured with ``key`` sends: its lowercase hex MD5."""
    return hashlib.md5(key.encode("utf-8")).hexdigest()


class WebSocketListenError(OSError):
    """The WebSocket port could not be listened on; ``errno`` says why.

    An ``OSError`` like any other listening failure; its own class only so
    that the command line can name ``--websocket-port`` rather than ``--port``.
    """


class _BridgeFailed(Exception):
    """The gateway could not log in to the simulator on the client's behalf."""


class WebSocketGateway:
    """Accepts WebSocket connections and bridges each to the simulator's TCP port.

    Args:
        key: the key clients must be configured with, or ``None`` to accept any.
        opend_host: the simulator's listening address.
        opend_port: returns the simulator's port (read when a client logs in).
        handshake_timeout: seconds a connection has to upgrade and log in
            with a good key before it is closed, or ``None`` for ever.
    """

    def __init__(
        self,
        *,
        key: str | None,
        opend_host: str,
        opend_port: Callable[[], int],
        handshake_timeout: float | None,
    ) -> None:
        self._digest = None if key is None else websocket_key_digest(key)
        self._opend_host = "127.0.0.1" if opend_host in _WILDCARD_HOSTS else opend_host
        self._opend_port = opend_port
        self._handshake_timeout = math.inf if handshake_timeout is None else handshake_timeout
        self._listener: anyio.abc.Listener[anyio.abc.SocketStream] | None = None
        self._where = ""  # "host:{} (WebSocket)", for the accept loop's log lines
        self._link: Link | None = None
        self._port: int | None = None

    @property
    def port(self) -> int | None:
        """The port listened on, or ``None`` when not listening."""
        return self._port

    async def listen(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port.

        Apart from :meth:`serve_in` so that a port that cannot be listened
        on fails the simulator's start with a plain ``OSError``, before any
        task group could wrap it.
        """
        try:
            listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
        except OSError as exc:
            raise WebSocketListenError(exc.errno, exc.strerror or str(exc)) from exc
        self._listener = listener
        self._where = f"{host}:{{}} (WebSocket)"
        self._port = listener.extra(anyio.abc.SocketAttribute.local_port)
        return self._port

    def serve_in(self, task_group: anyio.abc.TaskGroup) -> None:
        """Accept WebSocket connections on the listening socket, in ``task_group``."""
        listener = self._listener
        assert listener is not None, "listen() first"
        self._link = link = Link.new()

        def accepted(stream: anyio.abc.SocketStream) -> None:
            what = f"the WebSocket connection from {peer_name(stream)}"
            task_group.start_soon(serve_guarded, functools.partial(self._serve, stream), what)

        where = self._where.format(self._port)
        task_group.start_soon(accept_until_stopped, listener, link, accepted, where)

    async def aclose(self) -> None:
        """Stop accepting and close the listening socket; open connections are not touched."""
        listener, self._listener = self._listener, None
        link, self._link = self._link, None
        self._port = None
        if link is not None:
            link.scope.cancel()
            await link.done.wait()
        if listener is not None:
            await listener.aclose()

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        peer = peer_name(stream)
        try:
            async with closing_shielded(stream):
                websocket = WebSocketStream(stream)
                login: tuple[anyio.abc.SocketStream, bytes] | None = None
                with anyio.move_on_after(self._handshake_timeout) as login_time:
                    if not await websocket.handshake():
                        return
                    login = await self._log_in(websocket, peer)
                if login is None:
                    if login_time.cancel_called:
                        _log.info("closing WebSocket connection from %s: no login in time", peer)
                        await websocket.close(1008, "no login in time")
                    return
                opend, reply = login
                async with closing_shielded(opend):
                    await websocket.send(reply)
                    await _Bridge(websocket, opend).run()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            pass
        except ProtocolError as exc:
            _log.info("closing WebSocket connection from %s: %s", peer, exc)

    async def _log_in(
        self, websocket: WebSocketStream, peer: str
    ) -> tuple[anyio.abc.SocketStream, bytes] | None:
        """Serve messages until a good InitWebSocket.

        Returns:
            The bridge's TCP connection, logged in, and the InitWebSocket
            reply to send; ``None`` if the client left first.
        """
        while True:
            data = await websocket.receive()
            if data is None:
                return None
            message = decode_request(data)
            if message.cmd != CMD_INIT_WEBSOCKET:
                await websocket.send(_refusal(message, _NOT_LOGGED_IN))
                continue
            c2s = parse_message(
                InitWebSocket_pb2.Request, message.body, proto_id=CMD_INIT_WEBSOCKET
            ).c2s
            if self._digest is not None and c2s.websocketKey != self._digest:
                # OpenD does not answer; the SDK times out (see the module docstring).
                _log.warning(
                    "WebSocket connection from %s sent InitWebSocket with a wrong key; "
                    "not answering it",
                    peer,
                )
                continue
            try:
                opend, conn_id = await self._bridge_to_opend(c2s)
            except _BridgeFailed as exc:
                reply = InitWebSocket_pb2.Response(retType=-1, retMsg=str(exc))
                await websocket.send(
                    encode_reply(
                        WsMessage(
                            CMD_INIT_WEBSOCKET,
                            message.section,
                            reply.SerializeToString(),
                            _GATEWAY_ERROR,
                            "login failed",
                        )
                    )
                )
                continue
            reply = InitWebSocket_pb2.Response(retType=0)
            reply.s2c.serverTime = int(time.time())
            reply.s2c.connID = conn_id
            body = reply.SerializeToString()
            return opend, encode_reply(WsMessage(CMD_INIT_WEBSOCKET, message.section, body))

    async def _bridge_to_opend(
        self, c2s: InitWebSocket_pb2.C2S
    ) -> tuple[anyio.abc.SocketStream, int]:
        """Connect to the simulator and complete InitConnect; return the stream and connID.

        Raises:
            _BridgeFailed: ``clientID`` or ``programmingLanguage`` is not
                UTF-8, the port refused the connection or InitConnect failed.
        """
        client_id = _text(c2s, "clientID") or _GATEWAY_CLIENT_ID
        language = _text(c2s, "programmingLanguage") or "JavaScript"
        try:
            opend = await anyio.connect_tcp(self._opend_host, self._opend_port())
        except OSError as exc:
            raise _BridgeFailed(f"cannot connect to OpenD: {exc}") from exc
        request = initconnect_request(client_id, _GATEWAY_CLIENT_VER, encrypted=False)
        request.c2s.programmingLanguage = language
        try:
            try:
                await opend.send(encode_frame(ProtoId.INIT_CONNECT, 1, request.SerializeToString()))
                decoder = FrameDecoder(max_body_len=_MAX_REPLY_BODY)
                frames: list[Frame] = []
                while not frames:
                    frames = decoder.feed(await opend.receive(_RECEIVE_SIZE))
                response = parse_message(
                    InitConnect_pb2.Response, frames[0].body, proto_id=ProtoId.INIT_CONNECT
                )
            except (OSError, anyio.EndOfStream, anyio.BrokenResourceError, ProtocolError) as exc:
                raise _BridgeFailed(f"InitConnect to OpenD failed: {exc!r}") from exc
            if response.retType != 0:
                raise _BridgeFailed(f"InitConnect to OpenD failed: {response.retMsg}")
        except BaseException:
            # Cancelled by the login timeout too: the connection must not outlive it.
            await anyio.aclose_forcefully(opend)
            raise
        return opend, response.s2c.connID


def _text(c2s: InitWebSocket_pb2.C2S, name: str) -> str:
    """The string field ``name`` of ``c2s``.

    Raises:
        _BridgeFailed: its bytes are not UTF-8 (protobuf's upb backend then
            returns ``bytes`` rather than raising; the pure-Python one raises).
    """
    try:
        value: object = getattr(c2s, name)
    except UnicodeDecodeError:
        value = None
    if not isinstance(value, str):
        raise _BridgeFailed(f"{name} is not UTF-8")
    return value


def _refusal(message: WsMessage, errmsg: str) -> bytes:
    return encode_reply(WsMessage(message.cmd, message.section, b"", _GATEWAY_ERROR, errmsg))


class _Bridge:
    """Forwards messages between one logged-in WebSocket and its TCP connection."""

    def __init__(self, websocket: WebSocketStream, opend: anyio.abc.SocketStream) -> None:
        self._websocket = websocket
        self._opend = opend
        # The TCP serial numbers the bridge sends, to the client's sections.
        # Serial 1 went to the gateway's InitConnect.
        self._serials = itertools.count(2)
        self._sections: dict[int, int] = {}

    async def run(self) -> None:
        """Forward until either side leaves."""
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._to_opend, tasks.cancel_scope)
            await self._to_client()
            tasks.cancel_scope.cancel()

    async def _to_opend(self, done: anyio.CancelScope) -> None:
        websocket = self._websocket
        try:
            while (data := await websocket.receive()) is not None:
                message = decode_request(data)
                if message.cmd == CMD_INIT_WEBSOCKET:
                    await websocket.send(_refusal(message, "logged in already"))
                    continue
                serial = next(self._serials) & 0xFFFFFFFF
                self._sections[serial] = message.section
                await self._opend.send(encode_frame(message.cmd, serial, message.body))
        except ProtocolError as exc:
            _log.info("closing a WebSocket connection: %s", exc)
        # The client has gone (or sent garbage): close the TCP side too.
        done.cancel()

    async def _to_client(self) -> None:
        decoder = FrameDecoder(max_body_len=_MAX_REPLY_BODY)
        websocket = self._websocket
        sections = self._sections
        try:
            while True:
                for frame in decoder.feed(await self._opend.receive(_RECEIVE_SIZE)):
                    section = sections.pop(frame.serial_no, 0)
                    await websocket.send(
                        encode_reply(WsMessage(frame.proto_id, section, frame.body))
                    )
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        # OpenD's side is gone: say so, as OpenD's gateway does, then close.
        # Shielded, so a simulator shutting down still says so; bounded, so a
        # client that reads nothing cannot hold the shutdown up.
        with anyio.move_on_after(_GOODBYE_TIMEOUT, shield=True):
            try:
                await websocket.send(encode_reply(WsMessage(CMD_OPEND_DISCONNECTED, 0)))
                await websocket.close(1001, "OpenD disconnected")
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass
