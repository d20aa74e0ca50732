"""RSA for the InitConnect exchange of encrypted OpenD connections.

One job: load the RSA private key user and OpenD share
(:func:`load_rsa_private_key`) and encrypt or decrypt the InitConnect request
and reply with it, PKCS#1 v1.5 block by block (:class:`RsaCipher`). A wrong
key does not make decryption fail; the header's SHA-1 catches it (see
:func:`asyncquote._opend.cipher.decrypt_body`). Key text never reaches a repr, an
error message or an exception chain.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._base.errors import InvalidArgumentError
from .cipher import DecryptionError, _require_cryptography

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["RsaCipher", "load_rsa_private_key"]


class RsaCipher:
    """RSA PKCS#1 v1.5, block by block, for the InitConnect exchange.

    Both directions use the same key pair: each side encrypts with the public
    half and decrypts with the private half, so client and gateway both hold
    the private key. The plaintext is cut into chunks of
    ``key_bytes * 25 // 32`` bytes (100 for a 1024-bit key, the only size the
    official SDK supports; 200 for 2048 bits, as its comments say), each
    becoming one ``key_bytes`` ciphertext block.

    Note that a wrong key does not make :meth:`decrypt` fail: OpenSSL answers
    bad PKCS#1 v1.5 padding with deterministic pseudo-random bytes (the
    "implicit rejection" defence against padding oracles). Check the header's
    SHA-1, e.g. with :func:`decrypt_body`.

    Args:
        private_key: an RSA private key from the ``cryptography`` package; see
            :func:`load_rsa_private_key` to read one from PEM.
    """

    __slots__ = ("_block", "_chunk", "_key_bits", "_padding", "_private", "_public")

    def __init__(self, private_key: RSAPrivateKey) -> None:
        _require_cryptography()
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        if not isinstance(private_key, rsa.RSAPrivateKey):
            kind = (
                "an RSA public key; OpenD's scheme needs the private key"
                if isinstance(private_key, rsa.RSAPublicKey)
                else f"a {type(private_key).__name__}, not an RSA private key"
            )
            raise InvalidArgumentError(f"RsaCipher was given {kind}")
        self._key_bits = private_key.key_size
        self._block = (self._key_bits + 7) // 8
        self._chunk = self._block * 25 // 32
        if self._chunk < 1 or self._chunk > self._block - 11:
            raise InvalidArgumentError(f"a {self._key_bits}-bit RSA key is too small")
        self._private = private_key
        self._public = private_key.public_key()
        self._padding = padding.PKCS1v15()

    @property
    def key_size(self) -> int:
        """The modulus size in bits."""
        return self._key_bits

    @property
    def plaintext_chunk(self) -> int:
        """Plaintext bytes per RSA block."""
        return self._chunk

    @property
    def ciphertext_chunk(self) -> int:
        """Bytes per encrypted block (the modulus size in bytes)."""
        return self._block

    def encrypt(self, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` with the public key, one chunk per block.

        An empty plaintext encrypts to an empty body, as in the SDK.
        """
        step = self._chunk
        encrypt = self._public.encrypt
        pad = self._padding
        return b"".join(
            encrypt(plaintext[i : i + step], pad) for i in range(0, len(plaintext), step)
        )

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` with the private key, block by block.

        Raises:
            DecryptionError: if the length is not whole blocks or a block is
                not valid for this key (e.g. not below the modulus).
        """
        step = self._block
        if len(ciphertext) % step:
            raise DecryptionError(
                f"RSA body of {len(ciphertext)} bytes is not a multiple of the "
                f"{step}-byte block of a {self._key_bits}-bit key"
            )
        decrypt = self._private.decrypt
        pad = self._padding
        try:
            return b"".join(
                decrypt(ciphertext[i : i + step], pad) for i in range(0, len(ciphertext), step)
            )
        except ValueError as exc:
            raise DecryptionError(
                f"RSA block could not be decrypted with this {self._key_bits}-bit key"
            ) from exc

    def __repr__(self) -> str:
        return f"RsaCipher(<{self._key_bits}-bit private key>)"


def load_rsa_private_key(path_or_pem: str | os.PathLike[str] | bytes) -> RsaCipher:
    """Read an RSA private key and return an :class:`RsaCipher` for it.

    Args:
        path_or_pem: PEM (or DER) bytes; PEM text (a ``str`` starting with
            ``-----BEGIN``); or the path of a file holding either. PKCS#1
            (``BEGIN RSA PRIVATE KEY``, what OpenD and the SDK use) and PKCS#8
            (``BEGIN PRIVATE KEY``) are both accepted; password-protected keys
            are not.

    Raises:
        InvalidArgumentError: if the file cannot be read, or holds no
            unencrypted RSA private key.
        ImportError: if the ``cryptography`` package is not installed.
    """
    if isinstance(path_or_pem, (bytes, bytearray, memoryview)):
        data = bytes(path_or_pem)
        origin = "the key data"
    elif isinstance(path_or_pem, str) and path_or_pem.lstrip().startswith("-----BEGIN"):
        data = path_or_pem.encode()
        origin = "the key text"
    else:
        try:
            path = Path(path_or_pem)
        except TypeError:
            raise InvalidArgumentError(
                f"expected a key file path or PEM bytes, not {type(path_or_pem).__name__}"
            ) from None
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidArgumentError(
                f"cannot read RSA key file {str(path)!r}: {exc.strerror or exc}"
            ) from None
        origin = f"RSA key file {str(path)!r}"
    _require_cryptography()
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = data.lstrip().startswith(b"-----BEGIN")
    try:
        if pem:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except TypeError:
        # cryptography's way of saying the key is password-protected.
        raise InvalidArgumentError(
            f"{origin} holds an encrypted private key; decrypt it first "
            "(OpenD needs the same key unencrypted)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        # Messages from the parser are generic, but the key text is never
        # worth the risk of echoing: keep the cause out of the chain.
        raise InvalidArgumentError(
            f"{origin} is not an RSA private key in PEM or DER form"
            + (" (it is a public key)" if _is_public_key(data, pem) else "")
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidArgumentError(f"{origin} holds a {type(key).__name__}, not an RSA key")
    return RsaCipher(key)


def _is_public_key(data: bytes, pem: bool) -> bool:
    from cryptography.hazmat.primitives import serialization

    try:
        if pem:
            serialization.load_pem_public_key(data)
        else:
            serialization.load_der_public_key(data)
    except Exception:
        return False
    return True
