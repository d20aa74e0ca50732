"""Body ciphers for encrypted OpenD connections.

When the user and OpenD share an RSA private key, the connection is
encrypted in two stages:

1. The InitConnect request and its reply are RSA-encrypted (PKCS#1 v1.5,
   block by block) with that key pair: :class:`RsaCipher`.
2. The reply carries a per-connection AES key (``connAESKey``) and, for CBC,
   an IV (``aesCBCiv``); every later body in both directions is encrypted with
   them: :func:`cipher_for_connection`.

Only frame bodies are encrypted. The header's SHA-1 is always of the
plaintext, which makes it the real integrity check: RSA decryption with the
wrong key does not fail (modern OpenSSL returns pseudo-random bytes instead,
to defeat padding oracles) and FTAES_ECB has no padding to check. Use
:func:`decrypt_body` to decrypt and check the digest in one step.

The ``cryptography`` package is imported only when a real cipher is built, so
this module (and :data:`NULL_CIPHER`) works without it. Instances hold key
material but never show it: reprs and error messages name only sizes.
An instance belongs to one connection and is not meant to be shared between
threads.

This module is the scheme and the choice of cipher (:class:`PacketEncAlgo`,
:func:`cipher_for_connection`), and the one import for all of it: the
interface is in :mod:`asyncquote._opend.cipher`, the ciphers in
:mod:`asyncquote._opend.aes` and :mod:`asyncquote._opend.rsa`.
"""

from __future__ import annotations

import enum

from .._base.errors import InvalidArgumentError
from .aes import AesCbcCipher, AesEcbCipher, FtAesEcbCipher
from .cipher import NULL_CIPHER, BodyCipher, DecryptionError, NoCipher, decrypt_body
from .rsa import RsaCipher, load_rsa_private_key

__all__ = [
    "NULL_CIPHER",
    "AesCbcCipher",
    "AesEcbCipher",
    "BodyCipher",
    "DecryptionError",
    "FtAesEcbCipher",
    "NoCipher",
    "PacketEncAlgo",
    "RsaCipher",
    "cipher_for_connection",
    "decrypt_body",
    "load_rsa_private_key",
]


class PacketEncAlgo(enum.IntEnum):
    """``InitConnect.C2S.packetEncAlgo`` values (``Common.PacketEncAlgo``)."""

    NONE = -1
    FTAES_ECB = 0
    AES_ECB = 1
    AES_CBC = 2


def _as_key_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, str):
        # OpenD sends the key and IV as protobuf strings of ASCII characters;
        # their UTF-8 bytes are the raw key, as in the official SDK.
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise InvalidArgumentError(f"{what} must be str or bytes, not {type(value).__name__}")


def cipher_for_connection(algo: int, key: str | bytes, iv: str | bytes | None = None) -> BodyCipher:
    """Return the body cipher negotiated by InitConnect.

    Args:
        algo: a :class:`PacketEncAlgo` value (-1 none, 0 FTAES_ECB,
            1 AES_ECB, 2 AES_CBC).
        key: ``connAESKey`` from the reply (ignored for -1).
        iv: ``aesCBCiv`` from the reply; required for AES_CBC, ignored otherwise.

    Raises:
        InvalidArgumentError: for an unknown ``algo``, a missing IV, or a key
            or IV of the wrong type or length.
    """
    try:
        kind = PacketEncAlgo(algo)
    except ValueError:
        raise InvalidArgumentError(f"unknown packetEncAlgo {algo!r}") from None
    if kind is PacketEncAlgo.NONE:
        return NULL_CIPHER
    raw_key = _as_key_bytes(key, "connAESKey")
    if kind is PacketEncAlgo.FTAES_ECB:
        return FtAesEcbCipher(raw_key)
    if kind is PacketEncAlgo.AES_ECB:
        return AesEcbCipher(raw_key)
    if iv is None:
        raise InvalidArgumentError("AES_CBC needs aesCBCiv, but none was given")
    return AesCbcCipher(raw_key, _as_key_bytes(iv, "aesCBCiv"))
