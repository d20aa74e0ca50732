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
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ._errors import InvalidArgumentError, ProtocolError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, modes

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

_BLOCK = 16
_AES_KEY_SIZES = (16, 24, 32)
# PKCS#7 pads 1..16 bytes, each equal to the pad length; index = pad length.
_PKCS7_PADS = tuple(bytes((n,)) * n for n in range(_BLOCK + 1))
# FTAES_ECB's trailing plain block: zeros, then the length of the plaintext's
# last partial block (0 when the plaintext filled whole blocks).
_FT_TAILS = tuple(bytes(_BLOCK - 1) + bytes((n,)) for n in range(_BLOCK))
_INSTALL_HINT = 'pip install "asyncquote[crypto]"'


class DecryptionError(ProtocolError):
    """A body could not be decrypted: wrong key, bad padding, wrong length or garbage."""


class PacketEncAlgo(enum.IntEnum):
    """``InitConnect.C2S.packetEncAlgo`` values (``Common.PacketEncAlgo``)."""

    NONE = -1
    FTAES_ECB = 0
    AES_ECB = 1
    AES_CBC = 2


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
            f"encrypted OpenD connections need the 'cryptography' package: {_INSTALL_HINT}"
        ) from exc


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
