"""Encrypted connections, against a scripted peer that holds the same RSA key."""

from __future__ import annotations

import functools
import logging

import anyio
import pytest

import asyncquote
from asyncquote._opend.crypto import (
    AesCbcCipher,
    BodyCipher,
    FtAesEcbCipher,
    RsaCipher,
    decrypt_body,
    load_rsa_private_key,
)
from asyncquote._opend.framing import encode_frame
from asyncquote._pb import InitConnect_pb2, Qot_GetUserSecurity_pb2
from asyncquote.sim import Simulator

from ..conftest import Runner
from ..hostile_peer import Peer, RawFrame, scripted_server

rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(runner: Runner) -> object:
    return runner.anyio_backend


AES_KEY = "0123456789abcdef"
AES_IV = "fedcba9876543210"


@functools.cache
def pem_key(seed: int) -> bytes:
    """A 1024-bit PKCS#1 key, the kind OpenD and the official SDK use."""
    del seed  # one key per seed value, cached
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem


async def send_encrypted(
    peer: Peer, cipher: BodyCipher, request: RawFrame, message: object, proto_id: int | None = None
) -> None:
    body = message.SerializeToString()  # type: ignore[attr-defined]
    wire = encode_frame(
        proto_id or request.proto_id, request.serial_no, cipher.encrypt(body), plaintext=body
    )
    await peer.stream.send(wire)


async def encrypted_handshake(peer: Peer, rsa_cipher: RsaCipher, *, with_iv: bool) -> BodyCipher:
    """Play OpenD's side of an RSA handshake; return the session cipher."""
    frame = await peer.receive_frame()
    c2s = InitConnect_pb2.Request.FromString(
        decrypt_body(rsa_cipher, frame.body, frame.body_sha1)
    ).c2s
    assert c2s.packetEncAlgo == 2  # AES-CBC asked for, like the official SDK
    response = InitConnect_pb2.Response(retType=0)
    s2c = response.s2c
    s2c.serverVer, s2c.loginUserID, s2c.connID = 1003, 42, 7
    s2c.connAESKey, s2c.keepAliveInterval = AES_KEY, 10
    if with_iv:
        s2c.aesCBCiv = AES_IV
    await send_encrypted(peer, rsa_cipher, frame, response)
    if with_iv:
        return AesCbcCipher(AES_KEY.encode(), AES_IV.encode())
    return FtAesEcbCipher(AES_KEY.encode())


def echo_reply(plain_request: bytes) -> Qot_GetUserSecurity_pb2.Response:
    group = Qot_GetUserSecurity_pb2.Request.FromString(plain_request).c2s.groupName
    response = Qot_GetUserSecurity_pb2.Response(retType=0)
    basic = response.s2c.staticInfoList.add().basic
    basic.security.market, basic.security.code = 1, group
    basic.id, basic.lotSize, basic.secType, basic.name, basic.listTime = 1, 100, 3, group, ""
    return response


@pytest.mark.parametrize("with_iv", [True, False], ids=["aes-cbc", "ftaes-ecb"])
async def test_an_encrypted_connection_carries_requests_and_replies(with_iv: bool) -> None:
    key = pem_key(1)
    seen_plain: list[bytes] = []

    async def script(peer: Peer) -> None:
        session = await encrypted_handshake(peer, load_rsa_private_key(key), with_iv=with_iv)
        while True:
            frame = await peer.receive_frame()
            if frame.proto_id != 3213:
                continue
            assert frame.body != decrypt_body(session, frame.body, frame.body_sha1)
            plain = decrypt_body(session, frame.body, frame.body_sha1)
            seen_plain.append(plain)
            await send_encrypted(peer, session, frame, echo_reply(plain))

    async with (
        scripted_server(script, verify_sha1=False) as (host, port),
        asyncquote.connect(host, port, rsa_key=key) as client,
    ):
        with anyio.fail_after(10):
            items = await client.get_user_security("HK")
            both = [await client.get_user_security(g) for g in ("US", "港股")]
    assert items[0].basic.security.code == "HK"
    assert [b[0].basic.name for b in both] == ["US", "港股"]
    assert len(seen_plain) == 3


async def test_the_key_can_be_given_as_a_file_path(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "opend.pem"  # type: ignore[operator]
    path.write_bytes(pem_key(1))

    async def script(peer: Peer) -> None:
        await encrypted_handshake(peer, load_rsa_private_key(pem_key(1)), with_iv=True)
        await anyio.sleep_forever()

    async with (
        scripted_server(script, verify_sha1=False) as (host, port),
        asyncquote.connect(host, port, rsa_key=str(path)) as client,
    ):
        assert client.info.conn_id == 7


async def test_a_wrong_key_gives_a_clear_connect_error_not_a_hang(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    async def script(peer: Peer) -> None:
        # The gateway has key 2; it cannot read the request and answers with
        # its own key, which the client cannot read either.
        frame = await peer.receive_frame()
        gateway = load_rsa_private_key(pem_key(2))
        response = InitConnect_pb2.Response(retType=-1, retMsg="bad request")
        await send_encrypted(peer, gateway, frame, response)
        await anyio.sleep_forever()

    async with scripted_server(script, verify_sha1=False) as (host, port):
        with anyio.fail_after(10), pytest.raises(asyncquote.ConnectError, match="RSA key") as info:
            async with asyncquote.connect(host, port, rsa_key=pem_key(1), connect_timeout=5):
                pass
    assert isinstance(info.value.__cause__, asyncquote.ProtocolError)
    key_text = pem_key(1).decode()
    body_lines = [line for line in key_text.splitlines() if "PRIVATE KEY" not in line]
    logged = caplog.text + str(info.value)
    assert not any(line in logged for line in body_lines), "key material leaked"


async def test_a_gateway_that_hangs_up_on_a_wrong_key_gives_connect_error() -> None:
    async def script(peer: Peer) -> None:
        await peer.receive_frame()
        await peer.stream.aclose()

    async with scripted_server(script, verify_sha1=False) as (host, port):
        with anyio.fail_after(10), pytest.raises(asyncquote.ConnectError, match="RSA key"):
            async with asyncquote.connect(host, port, rsa_key=pem_key(1)):
                pass


@pytest.mark.parametrize(
    ("key", "match"),
    [(b"not a key", "RSA"), ("/nonexistent/opend.pem", "opend.pem")],
)
async def test_an_unusable_key_is_refused_before_connecting(key: object, match: str) -> None:
    with pytest.raises(asyncquote.InvalidArgumentError, match=match):
        async with asyncquote.connect("127.0.0.1", 1, rsa_key=key):  # type: ignore[arg-type]
            pass


async def test_our_client_and_our_simulator_talk_encrypted() -> None:
    async with (
        Simulator(port=0, rsa_key=pem_key(1)) as sim,
        asyncquote.connect(sim.host, sim.port, rsa_key=pem_key(1)) as client,
    ):
        assert sim.encrypted
        with anyio.fail_after(10):
            items = await client.get_user_security("All")
            assert len(items) == len(sim.watchlists.securities_in("All"))
            await client.modify_user_security("Tech", asyncquote.ModifyOp.ADD, ["US.NVDA"])
            tech = await client.get_user_security("Tech")
        assert str(tech[-1].security) == "US.NVDA"


async def test_connecting_without_a_key_to_an_encrypting_gateway_says_to_pass_one() -> None:
    async with Simulator(port=0, rsa_key=pem_key(1)) as sim:
        address = f"{sim.host}:{sim.port}"
        with anyio.fail_after(10), pytest.raises(asyncquote.ConnectError) as caught:
            async with asyncquote.connect(sim.host, sim.port, reconnect=False):
                pass  # pragma: no cover
    assert str(caught.value) == (
        f"OpenD at {address} refused the handshake: "
        "this OpenD requires encryption: pass rsa_key= (CLI: --rsa-key FILE)"
    )


async def test_our_client_with_the_wrong_key_gets_connect_error_from_our_simulator() -> None:
    async with Simulator(port=0, rsa_key=pem_key(1)) as sim:
        with anyio.fail_after(10), pytest.raises(asyncquote.ConnectError, match="RSA key"):
            async with asyncquote.connect(sim.host, sim.port, rsa_key=pem_key(2)):
                pass
        with anyio.fail_after(10), pytest.raises(asyncquote.ConnectError):
            async with asyncquote.connect(sim.host, sim.port):  # no key at all
                pass
        assert sim.failed_handshakes >= 1
        # ...and the simulator still serves a client with the right key.
        async with asyncquote.connect(sim.host, sim.port, rsa_key=pem_key(1)) as client:
            assert await client.get_user_security("Tech")
