"""The InitConnect exchange's pure functions: the request, the reply's reading, the errors.

``tests/opend/test_protocol.py`` drives them through ``ClientProtocol``; here
each is called directly, for what the protocol object does not show: which
cipher an encrypted reply selects, the wording of every failure, the clamp.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote._base.errors import (
    ConnectError,
    ConnectionLostError,
    OpenDError,
    RequestTimeoutError,
)
from asyncquote._opend.aes import AesCbcCipher, FtAesEcbCipher
from asyncquote._opend.cipher import DecryptionError
from asyncquote._opend.handshake import (
    KEEPALIVE_RANGE,
    handshake_error,
    initconnect_request,
    read_initconnect_reply,
    sane_keepalive,
)
from asyncquote._pb import InitConnect_pb2

KEY = "0123456789abcdef"


def reply(*, key: str = KEY, iv: str | None = None) -> InitConnect_pb2.Response:
    response = InitConnect_pb2.Response(retType=0)
    response.s2c.connID = 7
    response.s2c.loginUserID = 8
    response.s2c.serverVer = 900
    response.s2c.keepAliveInterval = 10
    response.s2c.connAESKey = key
    if iv is not None:
        response.s2c.aesCBCiv = iv
    return response


def test_the_request_asks_for_pushes_and_for_aes_cbc_only_when_encrypting() -> None:
    plain = initconnect_request("bot", 300, encrypted=False).c2s
    encrypted = initconnect_request("bot", 300, encrypted=True).c2s
    assert (plain.clientID, plain.clientVer, plain.recvNotify) == ("bot", 300, True)
    assert (plain.packetEncAlgo, encrypted.packetEncAlgo) == (-1, 2)


def test_a_plain_reply_gives_the_info_and_no_cipher() -> None:
    info, cipher = read_initconnect_reply(reply(), "me", "gw:1", encrypted=False)
    assert (info.conn_id, info.login_user_id, info.server_version) == (7, 8, 900)
    assert (info.client_id, info.keepalive_interval, cipher) == ("me", 10.0, None)


def test_an_encrypted_reply_selects_aes_cbc_with_an_iv_and_ftaes_ecb_without() -> None:
    _, with_iv = read_initconnect_reply(reply(iv="fedcba9876543210"), "me", "gw", encrypted=True)
    _, without = read_initconnect_reply(reply(), "me", "gw", encrypted=True)
    assert isinstance(with_iv, AesCbcCipher)
    assert isinstance(without, FtAesEcbCipher)


def test_an_unusable_session_key_is_a_connect_error_naming_the_gateway() -> None:
    with pytest.raises(ConnectError, match="OpenD at gw:1 sent an unusable session key"):
        read_initconnect_reply(reply(key="short"), "me", "gw:1", encrypted=True)


def test_the_session_key_is_not_in_the_info_repr() -> None:
    info, _ = read_initconnect_reply(reply(), "me", "gw", encrypted=False)
    assert KEY not in repr(info)


@pytest.mark.parametrize(
    ("exc", "encrypted", "expected"),
    [
        (
            RequestTimeoutError("t"),
            False,
            "OpenD at gw:1 did not answer the handshake within 2.5 s",
        ),
        (
            OpenDError(-1, 0, "请使用加密连接", proto_id=1001),
            False,
            "OpenD at gw:1 refused the handshake: this OpenD requires encryption: pass rsa_key=",
        ),
        # Encrypting already: OpenD's own words, not the advice to encrypt.
        (
            OpenDError(-1, 0, "encrypt failed", proto_id=1001),
            True,
            "OpenD at gw:1 refused the handshake: encrypt failed",
        ),
        (
            DecryptionError("bad padding"),
            True,
            "handshake with OpenD at gw:1 failed: bad padding (is the RSA key the one",
        ),
        (ConnectionLostError("gone"), True, "failed: gone (is the RSA key the one"),
        (ConnectionLostError("gone"), False, "handshake with OpenD at gw:1 failed: gone"),
    ],
)
def test_each_failure_becomes_a_connect_error_that_says_what_to_do(
    exc: Exception, encrypted: bool, expected: str
) -> None:
    error = handshake_error("gw:1", exc, 2.5, encrypted=encrypted)
    assert isinstance(error, ConnectError)
    assert expected in str(error)
    if not encrypted:
        assert "RSA key the one" not in str(error)


def test_no_keepalive_announced_means_opends_default_and_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="asyncquote.connection"):
        assert sane_keepalive(0, "gw:1") == 10.0
        assert sane_keepalive(30, "gw:1") == 30.0
    assert [record.getMessage() for record in caplog.records] == [
        "OpenD at gw:1 announced keepAliveInterval=0; using 10 s instead"
    ]


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_the_keepalive_used_is_always_in_range_and_the_announced_one_when_it_is(
    announced: float,
) -> None:
    low, high = KEEPALIVE_RANGE
    used = sane_keepalive(announced, "gw")
    assert low <= used <= high
    if low <= announced <= high:
        assert used == announced
