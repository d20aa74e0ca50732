"""The simulator as an OpenD configured with ``rsa_private_key``: RSA handshake, AES bodies."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from asyncquote._base.errors import InvalidArgumentError
from asyncquote._opend.framing import encode_frame
from asyncquote._pb import InitConnect_pb2, KeepAlive_pb2, Qot_GetUserSecurity_pb2
from asyncquote.sim import Faults, Simulator
from asyncquote.sim import _texts as texts
from asyncquote.sim._state import ConnectionState

from .cryptoclient import EncryptedRawClient, encrypted_client
from .keys import rsa_pem
from .rawclient import GET_USER_SECURITY, INIT_CONNECT, KEEP_ALIVE, RawClient, user_security

KEY = rsa_pem("simulator")
OTHER_KEY = rsa_pem("someone else")
FTAES_ECB, AES_ECB, AES_CBC = 0, 1, 2


def init_request(algo: int = AES_CBC) -> InitConnect_pb2.Request:
    return InitConnect_pb2.Request(
        c2s=InitConnect_pb2.C2S(clientVer=1, clientID="tests", packetEncAlgo=algo)
    )


@asynccontextmanager
async def first_handshake(
    algo: int,
) -> AsyncIterator[tuple[InitConnect_pb2.Response, EncryptedRawClient]]:
    """An encrypted simulator's reply to an InitConnect asking for ``algo``, and the client."""
    async with (
        Simulator(rsa_key=KEY) as sim,
        encrypted_client(sim.host, sim.port, KEY, algo=None) as client,
    ):
        yield await client.init_connect(packetEncAlgo=algo), client


async def hk(client: RawClient) -> Qot_GetUserSecurity_pb2.Response:
    return await client.call(
        GET_USER_SECURITY, user_security("HK"), Qot_GetUserSecurity_pb2.Response
    )


@pytest.mark.anyio
@pytest.mark.parametrize("algo", [FTAES_ECB, AES_ECB, AES_CBC])
async def test_a_client_with_the_key_talks_encrypted_with_each_algorithm(algo: int) -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(rsa_key=KEY) as sim,
            encrypted_client(sim.host, sim.port, KEY, algo=algo) as client,
        ):
            reply = await hk(client)
            alive = await client.call(
                KEEP_ALIVE,
                KeepAlive_pb2.Request(c2s=KeepAlive_pb2.C2S(time=1)),
                KeepAlive_pb2.Response,
            )
    assert sim.encrypted
    assert reply.retType == 0
    assert list(reply.s2c.staticInfoList) == sim.watchlists.securities_in("HK")
    assert alive.retType == 0
    # Nothing went over the wire in plain: no body matched its header's digest.
    assert len(client.wire) == 3
    assert all(hashlib.sha1(frame.body).digest() != frame.body_sha1 for frame in client.wire)
    assert [r.proto_id for r in sim.requests] == [INIT_CONNECT, GET_USER_SECURITY, KEEP_ALIVE]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("algo", "has_iv"), [(FTAES_ECB, False), (AES_ECB, False), (AES_CBC, True)]
)
async def test_the_initconnect_reply_carries_an_iv_only_for_aes_cbc(
    algo: int, has_iv: bool
) -> None:
    # The official SDK chooses CBC when there is an IV and FTAES_ECB when not.
    with anyio.fail_after(5):
        async with first_handshake(algo) as (response, client):
            pass
    assert response.retType == 0
    assert response.s2c.HasField("aesCBCiv") is has_iv
    assert len(response.s2c.connAESKey) == 16
    # The reply is RSA-encrypted: whole 128-byte blocks of a 1024-bit key.
    assert len(client.wire[0].body) % 128 == 0


@pytest.mark.anyio
async def test_the_rsa_key_may_be_a_path_pem_text_or_a_2048_bit_key(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(KEY)
    big = rsa_pem("big", bits=2048)
    keys: list[tuple[str | os.PathLike[str] | bytes, bytes]] = [
        (path, KEY),
        (str(path), KEY),
        (KEY.decode(), KEY),
        (big, big),
    ]
    with anyio.fail_after(10):
        for rsa_key, client_key in keys:
            async with (
                Simulator(rsa_key=rsa_key) as sim,
                encrypted_client(sim.host, sim.port, client_key) as client,
            ):
                assert (await hk(client)).retType == 0


@pytest.mark.anyio
async def test_a_client_with_another_key_is_cut_off_and_others_are_still_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncquote.sim")
    with anyio.fail_after(5):
        async with Simulator(rsa_key=KEY) as sim:
            async with encrypted_client(sim.host, sim.port, OTHER_KEY, algo=None) as stranger:
                await stranger.send(INIT_CONNECT, init_request())
                assert await stranger.closed_by_peer()
            assert sim.failed_handshakes == 1
            async with encrypted_client(sim.host, sim.port, KEY) as client:
                assert (await hk(client)).retType == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not decrypt with the simulator's RSA key" in warnings[0].getMessage()
    assert [r.proto_id for r in sim.requests] == [INIT_CONNECT, GET_USER_SECURITY]


@pytest.mark.anyio
async def test_an_unencrypted_initconnect_gets_a_plain_refusal_saying_why_then_the_door() -> None:
    with anyio.fail_after(5):
        async with Simulator(rsa_key=KEY) as sim, RawClient.connect(sim.host, sim.port) as client:
            response = await client.init_connect()
            assert await client.closed_by_peer()
    assert (response.retType, response.retMsg) == (-1, texts.ENCRYPTION_REQUIRED)
    assert sim.failed_handshakes == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "data",
    [
        encode_frame(INIT_CONNECT, 1, os.urandom(128), plaintext=b"claimed"),
        encode_frame(INIT_CONNECT, 1, os.urandom(77), plaintext=b"claimed"),
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" + bytes(20),
    ],
    ids=["random-blocks", "random-bytes", "not-a-frame"],
)
async def test_garbage_closes_the_connection_and_the_simulator_carries_on(data: bytes) -> None:
    with anyio.fail_after(5):
        async with Simulator(rsa_key=KEY) as sim:
            async with RawClient.connect(sim.host, sim.port) as client:
                await client.stream.send(data)
                assert await client.closed_by_peer()
            async with encrypted_client(sim.host, sim.port, KEY) as client:
                assert (await hk(client)).retType == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("algo", "message"),
    [(-1, texts.ENCRYPTION_REQUIRED), (7, texts.UNKNOWN_ENCRYPTION.format(algo=7))],
)
async def test_an_encrypted_initconnect_must_ask_for_a_known_cipher(
    algo: int, message: str
) -> None:
    with anyio.fail_after(5):
        async with first_handshake(algo) as (response, client):
            # The refusal is readable: it came RSA-encrypted with the shared key.
            assert (response.retType, response.retMsg) == (-1, message)
            assert client.cipher is None
            retry = await client.init_connect(packetEncAlgo=AES_CBC)
            assert retry.retType == 0


@pytest.mark.anyio
async def test_a_body_the_aes_key_cannot_open_is_refused_and_the_connection_lives_on() -> None:
    with anyio.fail_after(5):
        async with (
            Simulator(rsa_key=KEY) as sim,
            encrypted_client(sim.host, sim.port, KEY) as client,
        ):
            plain = user_security("HK").SerializeToString()
            await client.stream.send(encode_frame(GET_USER_SECURITY, 50, plain))
            refusal = Qot_GetUserSecurity_pb2.Response.FromString((await client.receive()).body)
            assert (await hk(client)).retType == 0
    assert refusal.retType == texts.RET_INVALID
    assert refusal.retMsg.startswith("request body could not be decrypted")
    assert [r.serial_no for r in sim.requests] == [1, 2]


@pytest.mark.anyio
async def test_requests_before_the_handshake_are_refused_in_plain() -> None:
    with anyio.fail_after(5):
        async with Simulator(rsa_key=KEY) as sim, RawClient.connect(sim.host, sim.port) as client:
            response = await hk(client)
    assert response.retType == -1
    assert response.retMsg == texts.NOT_INITIALISED.format(proto_id=GET_USER_SECURITY)


@pytest.mark.anyio
async def test_faults_apply_to_encrypted_replies_too() -> None:
    faults = Faults(corrupt_sha1=2, reorder=2, reorder_wait=60)
    with anyio.fail_after(5):
        async with (
            Simulator(rsa_key=KEY, faults=faults) as sim,
            encrypted_client(sim.host, sim.port, KEY) as client,
        ):
            for _ in range(2):
                await client.send(GET_USER_SECURITY, user_security("HK"))
            frames = [await client.receive_wire() for _ in range(2)]
    assert [f.serial_no for f in frames] == [3, 2]
    cipher = client.cipher
    assert cipher is not None
    digests = [hashlib.sha1(cipher.decrypt(f.body)).digest() == f.body_sha1 for f in frames]
    assert digests == [False, True]


@pytest.mark.anyio
async def test_no_key_material_reaches_the_logs_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with anyio.fail_after(5):
        async with Simulator(rsa_key=KEY) as sim:
            async with encrypted_client(sim.host, sim.port, KEY) as client:
                response = await client.init_connect(packetEncAlgo=AES_CBC)
                conn = next(iter(sim._connections.values()))
                shown = repr(conn) + repr(sim) + repr(sim._state) + repr(sim.faults)
            async with encrypted_client(sim.host, sim.port, OTHER_KEY, algo=None) as stranger:
                await stranger.send(INIT_CONNECT, init_request())
                assert await stranger.closed_by_peer()
    secrets = [response.s2c.connAESKey, response.s2c.aesCBCiv, *KEY.decode().splitlines()[1:-1]]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert secret not in shown
    assert isinstance(conn, ConnectionState)


def test_a_key_that_is_not_one_is_refused_without_echoing_it(tmp_path: Path) -> None:
    bogus = b"""-----BEGIN RSA PRIVATE KEY-----
c2VjcmV0IGtleSBtYXRlcmlhbA==
-----END RSA PRIVATE KEY-----
"""
    with pytest.raises(InvalidArgumentError, match="is not an RSA private key") as info:
        Simulator(rsa_key=bogus)
    assert "c2VjcmV0" not in str(info.value)
    with pytest.raises(InvalidArgumentError, match="cannot read RSA key file"):
        Simulator(rsa_key=tmp_path / "missing.pem")
