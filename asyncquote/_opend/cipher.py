"""The body-cipher interface every cipher of an OpenD connection shares.

One job: what a cipher is (:class:`BodyCipher`), the identity cipher of an
unencrypted connection (:data:`NULL_CIPHER`), the error a body that will not
decrypt raises (:class:`DecryptionError`), and :func:`decrypt_body`, which
decrypts and checks the header's SHA-1 of the plaintext in one step: that
digest, not the cipher, is the integrity check. Also the one place that
imports ``cryptography`` on demand, with the install hint when it is missing.
The ciphers themselves are in :mod:`asyncquote._opend.aes` and :mod:`asyncquote._opend.rsa`;
:mod:`asyncquote._opend.crypto` describes the scheme and picks one.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from .._base.errors import ProtocolError
from .._base.install import install_hint

__all__ = ["NULL_CIPHER", "BodyCipher", "DecryptionError", "NoCipher", "decrypt_body"]


class DecryptionError(ProtocolError):
    """A body could not be decrypted: wrong key, bad padding, wrong length or garbage."""


class BodyCipher(Protocol):
    """Turns frame bodies into what goes on the wire, and back."""

    def encrypt(self, plaintext: bytes) -> bytes:
        """Return the wire form of ``plaintext``."""
        ...

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Return the plaintext of ``ciphertext``.

        Raises:
            DecryptionError: if ``ciphertext`` is not something this cipher
                could have produced.
        """
        ...


class NoCipher:
    """The identity cipher of unencrypted connections."""

    __slots__ = ()

    def encrypt(self, plaintext: bytes) -> bytes:
        """Return ``plaintext`` unchanged."""
        return plaintext

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Return ``ciphertext`` unchanged."""
        return ciphertext

    def __repr__(self) -> str:
        return "NoCipher()"


#: The shared identity cipher.
NULL_CIPHER = NoCipher()


def decrypt_body(cipher: BodyCipher, body: bytes, body_sha1: bytes) -> bytes:
    """Decrypt a frame body and check it against the header's SHA-1.

    This is the check that catches a key mismatch with RSA and FTAES_ECB,
    whose decryption cannot tell a wrong key from a right one.

    Raises:
        DecryptionError: if decryption fails or the digest does not match.
    """
    plaintext = cipher.decrypt(body)
    if not hmac.compare_digest(hashlib.sha1(plaintext).digest(), body_sha1):
        raise DecryptionError(
            "decrypted body does not match the SHA-1 in its header: "
            "the peer uses a different key, or the body is corrupt"
        )
    return plaintext


def _require_cryptography() -> None:
    # Importing the top-level package first gives one clear error instead of
    # whichever submodule happens to be missing.
    try:
        import cryptography  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"encrypted OpenD connections need the 'cryptography' package: {install_hint('crypto')}"
        ) from exc
