"""AES body ciphers for encrypted OpenD connections: AES-CBC, AES-ECB, FTAES_ECB.

One job: encrypt and decrypt frame bodies with the per-connection AES key
(``connAESKey``, and ``aesCBCiv`` for CBC) InitConnect's reply carries.
Instances hold key material but never show it: reprs and error messages name
only sizes. An instance belongs to one connection (CBC and ECB keep their
cipher contexts) and is not meant to be shared between threads. Which one a
connection uses is :func:`asyncquote._opend.crypto.cipher_for_connection`'s choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._base.errors import InvalidArgumentError
from .cipher import DecryptionError, _require_cryptography

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, modes

__all__ = ["AesCbcCipher", "AesEcbCipher", "FtAesEcbCipher"]

_BLOCK = 16
_AES_KEY_SIZES = (16, 24, 32)
# PKCS#7 pads 1..16 bytes, each equal to the pad length; index = pad length.
_PKCS7_PADS = tuple(bytes((n,)) * n for n in range(_BLOCK + 1))
# FTAES_ECB's trailing plain block: zeros, then the length of the plaintext's
# last partial block (0 when the plaintext filled whole blocks).
_FT_TAILS = tuple(bytes(_BLOCK - 1) + bytes((n,)) for n in range(_BLOCK))


def _aes_cipher(key: bytes, iv: bytes | None, what: str) -> Cipher[modes.ECB | modes.CBC]:
    """Validate ``key`` (and ``iv``, for CBC) and return a reusable cipher spec."""
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(
            f"{what} key must be bytes, not {type(key).__name__} "
            "(cipher_for_connection accepts the text form from InitConnect)"
        )
    if len(key) not in _AES_KEY_SIZES:
        raise InvalidArgumentError(f"{what} key must be 16, 24 or 32 bytes long, got {len(key)}")
    if iv is not None:
        if not isinstance(iv, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(f"{what} IV must be bytes, not {type(iv).__name__}")
        if len(iv) != _BLOCK:
            raise InvalidArgumentError(f"{what} IV must be {_BLOCK} bytes long, got {len(iv)}")
    _require_cryptography()
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    mode: modes.ECB | modes.CBC = modes.ECB() if iv is None else modes.CBC(bytes(iv))
    return Cipher(algorithms.AES(bytes(key)), mode)


def _unpad_pkcs7(padded: bytes, what: str) -> bytes:
    pad = padded[-1]
    if not 1 <= pad <= _BLOCK or not padded.endswith(_PKCS7_PADS[pad]):
        raise DecryptionError(f"{what} body has invalid PKCS#7 padding (wrong key or corrupt)")
    return padded[:-pad]


def _check_aligned(ciphertext: bytes, what: str) -> None:
    if not ciphertext or len(ciphertext) % _BLOCK:
        raise DecryptionError(
            f"{what} body of {len(ciphertext)} bytes is not a positive multiple of {_BLOCK}"
        )


class AesCbcCipher:
    """AES-CBC with PKCS#7 padding; the same IV starts every packet.

    ``PacketEncAlgo_AES_CBC``: the key is ``connAESKey`` and the IV
    ``aesCBCiv`` from the InitConnect reply. Each packet is encrypted on its
    own, so every call starts a fresh CBC chain.
    """

    __slots__ = ("_cipher", "_key_bits")

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._cipher = _aes_cipher(key, iv, "AES-CBC")
        self._key_bits = len(key) * 8

    def encrypt(self, plaintext: bytes) -> bytes:
        """Pad ``plaintext`` to whole blocks (PKCS#7) and encrypt it."""
        pad = _BLOCK - len(plaintext) % _BLOCK
        return self._cipher.encryptor().update(plaintext + _PKCS7_PADS[pad])

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` and strip its PKCS#7 padding.

        Raises:
            DecryptionError: on a length that is not whole blocks or bad padding.
        """
        _check_aligned(ciphertext, "AES-CBC")
        # Whole blocks in, whole blocks out: CBC's finalize() would add nothing.
        return _unpad_pkcs7(self._cipher.decryptor().update(ciphertext), "AES-CBC")

    def __repr__(self) -> str:
        return f"AesCbcCipher(<{self._key_bits}-bit key>)"


class _EcbBase:
    __slots__ = ("_decryptor", "_encryptor", "_key_bits")

    def __init__(self, key: bytes, what: str) -> None:
        cipher = _aes_cipher(key, None, what)
        # ECB carries no state from one block to the next, and we only ever
        # feed whole blocks, so one long-lived context per direction serves
        # every packet (building contexts per packet costs ~15x the AES work).
        self._encryptor: CipherContext = cipher.encryptor()
        self._decryptor: CipherContext = cipher.decryptor()
        self._key_bits = len(key) * 8

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{self._key_bits}-bit key>)"


class AesEcbCipher(_EcbBase):
    """Standard AES-ECB with PKCS#7 padding (``PacketEncAlgo_AES_ECB``).

    The official Python SDK never requests this algorithm; the layout follows
    OpenD's documentation ("standard AES ECB") with the same padding as CBC.
    """

    __slots__ = ()

    def __init__(self, key: bytes) -> None:
        super().__init__(key, "AES-ECB")

    def encrypt(self, plaintext: bytes) -> bytes:
        """Pad ``plaintext`` to whole blocks (PKCS#7) and encrypt it."""
        pad = _BLOCK - len(plaintext) % _BLOCK
        return self._encryptor.update(plaintext + _PKCS7_PADS[pad])

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` and strip its PKCS#7 padding.

        Raises:
            DecryptionError: on a length that is not whole blocks or bad padding.
        """
        _check_aligned(ciphertext, "AES-ECB")
        return _unpad_pkcs7(self._decryptor.update(ciphertext), "AES-ECB")


class FtAesEcbCipher(_EcbBase):
    """Futu's AES-ECB variant (``PacketEncAlgo_FTAES_ECB``).

    The plaintext is zero-padded to whole blocks and encrypted with ECB, then
    one unencrypted block is appended whose last byte is
    ``len(plaintext) % 16``. It is what the official SDK uses when the
    InitConnect reply carries no ``aesCBCiv``.
    """

    __slots__ = ()

    def __init__(self, key: bytes) -> None:
        super().__init__(key, "FTAES-ECB")

    def encrypt(self, plaintext: bytes) -> bytes:
        """Zero-pad, encrypt, and append the length block."""
        partial = len(plaintext) % _BLOCK
        if partial:
            plaintext += bytes(_BLOCK - partial)
        return self._encryptor.update(plaintext) + _FT_TAILS[partial]

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt and cut the zero padding the length block accounts for.

        Only the last byte of the length block is read: the SDK documents
        the other 15 as reserved, so they are not checked, and neither are
        the padding bytes (OpenD's encoder is not ours to assume). A wrong key
        therefore usually goes unnoticed here; see :func:`decrypt_body`.

        Raises:
            DecryptionError: on a length that is not whole blocks, or a length
                block that cannot describe the data before it.
        """
        size = len(ciphertext)
        if size < _BLOCK or size % _BLOCK:
            raise DecryptionError(
                f"FTAES-ECB body of {size} bytes is not a positive multiple of {_BLOCK}"
            )
        partial = ciphertext[-1]
        if partial >= _BLOCK or (partial and size == _BLOCK):
            raise DecryptionError(
                f"FTAES-ECB length block claims {partial} bytes in a last block "
                f"of a {size - _BLOCK}-byte body"
            )
        plaintext = self._decryptor.update(ciphertext[:-_BLOCK])
        if partial:
            return plaintext[: len(plaintext) - _BLOCK + partial]
        return plaintext
