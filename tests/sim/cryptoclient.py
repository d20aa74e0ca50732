"""A raw-frame client that encrypts like the official SDK, for driving an encrypted simulator.

InitConnect goes out RSA-encrypted with the shared key and its reply is
RSA-decrypted; from then on bodies use the AES key from that reply. It is
built on asyncquote's cipher layer only (tested on its own in
``tests/opend/test_crypto.py``), not on the client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from google.protobuf.message import Message

from asyncquote._opend.crypto import (
    BodyCipher,
    RsaCipher,
    cipher_for_connection,
    decrypt_body,
    load_rsa_private_key,
)
from asyncquote._opend.framing import Frame, FrameDecoder, encode_frame
from asyncquote._pb import InitConnect_pb2

from .rawclient import INIT_CONNECT, RawClient


class EncryptedRawClient(RawClient):
    """Frames out and in, encrypted; :meth:`receive` returns frames with plaintext bodies.

    ``wire`` keeps every frame as it arrived, before decryption.
    """

    def __init__(self, stream: anyio.abc.SocketStream, rsa: RsaCipher) -> None:
        super().__init__(stream)
        self._decoder = FrameDecoder(verify_sha1=False)
        self.rsa = rsa
        self.cipher: BodyCipher | None = None
        self.wire: list[Frame] = []

    def seal(self, proto_id: int, serial_no: int, body: bytes) -> bytes:
        """The frame as this client would send it: RSA for InitConnect, else AES once agreed."""
        if proto_id == INIT_CONNECT:
            return encode_frame(proto_id, serial_no, self.rsa.encrypt(body), plaintext=body)
        if self.cipher is None:
            return encode_frame(proto_id, serial_no, body)
        return encode_frame(proto_id, serial_no, self.cipher.encrypt(body), plaintext=body)

    async def send(self, proto_id: int, message: Message | bytes, serial_no: int = 0) -> int:
        serial_no = serial_no or self.next_serial()
        body = message if isinstance(message, bytes) else message.SerializeToString()
        await self.stream.send(self.seal(proto_id, serial_no, body))
        return serial_no

    async def receive_wire(self) -> Frame:
        """The next frame as it arrived, still encrypted and unchecked."""
        frame = await super().receive()
        self.wire.append(frame)
        return frame

    async def receive(self) -> Frame:
        frame = await self.receive_wire()
        if frame.proto_id == INIT_CONNECT:
            body = decrypt_body(self.rsa, frame.body, frame.body_sha1)
        elif self.cipher is not None:
            body = decrypt_body(self.cipher, frame.body, frame.body_sha1)
        else:
            body = frame.body
        return Frame(frame.proto_id, frame.serial_no, body, frame.body_sha1)

    async def init_connect(self, **c2s: object) -> InitConnect_pb2.Response:
        fields: dict[str, Any] = {"packetEncAlgo": 2}
        fields.update(c2s)
        response = await super().init_connect(**fields)
        if response.retType == 0:
            s2c = response.s2c
            iv = s2c.aesCBCiv if s2c.HasField("aesCBCiv") else None
            self.cipher = cipher_for_connection(int(fields["packetEncAlgo"]), s2c.connAESKey, iv)
        return response


@asynccontextmanager
async def encrypted_client(
    host: str, port: int, key: bytes, *, algo: int | None = 2
) -> AsyncIterator[EncryptedRawClient]:
    """A connected client holding ``key`` (PEM).

    It has completed an encrypted InitConnect asking for ``algo``, unless
    ``algo`` is ``None``, which leaves the handshake to the caller.
    """
    async with await anyio.connect_tcp(host, port) as stream:
        client = EncryptedRawClient(stream, load_rsa_private_key(key))
        if algo is not None:
            response = await client.init_connect(packetEncAlgo=algo)
            assert response.retType == 0, response.retMsg
        yield client
