"""Body ciphers: round trips, known answers, interop with PyCryptodome, hostile input.

The interop tests rebuild the official SDK's wire rules (RSA chunking,
FTAES_ECB's length block, CBC's PKCS#7) on top of PyCryptodome, the library
the SDK itself uses, so that we are checked against an independent
implementation rather than against ourselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("cryptography")

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from asyncquote._base.errors import InvalidArgumentError, ProtocolError
from asyncquote._opend.crypto import (
    NULL_CIPHER,
    AesCbcCipher,
    AesEcbCipher,
    BodyCipher,
    DecryptionError,
    FtAesEcbCipher,
    NoCipher,
    PacketEncAlgo,
    RsaCipher,
    cipher_for_connection,
    decrypt_body,
    load_rsa_private_key,
)
from asyncquote._opend.framing import FrameDecoder, encode_frame
from asyncquote._pb import Common_pb2

LENGTHS = [0, 1, 15, 16, 17, 100, 101, 1000, 10_000]

# NIST SP 800-38A, F.1.1 / F.2.1 (AES-128 ECB and CBC), first two blocks.
NIST_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
NIST_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
NIST_PLAIN = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
NIST_ECB = bytes.fromhex("3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf")
NIST_CBC = bytes.fromhex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")

# Arbitrary keys with no structure in common with each other.
AES_KEY = bytes.fromhex("9f1c0b7a55e2d4836a01f7cc2e9b4d10")
AES_IV = bytes.fromhex("4e7f21d9a0c35b8816ef09d274ab3c65")
OTHER_AES_KEY = bytes.fromhex("0d52e8a61b7fc3944ae02f6b98d1c57e")


@cache
def rsa_key(bits: int, which: int = 0) -> rsa.RSAPrivateKey:
    """A fresh key per (bits, which), generated once per test session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pkcs1_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def pkcs8_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


CIPHERS: dict[str, Callable[[], BodyCipher]] = {
    "none": lambda: NULL_CIPHER,
    "ftaes_ecb": lambda: FtAesEcbCipher(AES_KEY),
    "aes_ecb": lambda: AesEcbCipher(AES_KEY),
    "aes_cbc": lambda: AesCbcCipher(AES_KEY, AES_IV),
    "rsa1024": lambda: RsaCipher(rsa_key(1024)),
    "rsa2048": lambda: RsaCipher(rsa_key(2048)),
}
# The same algorithms under a key that is not AES_KEY / rsa_key(bits).
WRONG_KEY_CIPHERS: dict[str, Callable[[], BodyCipher]] = {
    "ftaes_ecb": lambda: FtAesEcbCipher(OTHER_AES_KEY),
    "aes_ecb": lambda: AesEcbCipher(OTHER_AES_KEY),
    "aes_cbc": lambda: AesCbcCipher(OTHER_AES_KEY, AES_IV),
    "rsa1024": lambda: RsaCipher(rsa_key(1024, which=1)),
    "rsa2048": lambda: RsaCipher(rsa_key(2048, which=1)),
}
ENCRYPTING = [name for name in CIPHERS if name != "none"]


def messages(exc: BaseException) -> Iterator[str]:
    """The text of ``exc`` and of every exception chained to it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        current = current.__cause__ or current.__context__


def forms_of(secret: bytes) -> list[str]:
    """The ways a key could leak into text."""
    return [repr(secret), secret.hex(), secret.hex().upper(), secret.decode("latin-1")]


# --- round trips -------------------------------------------------------------


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("name", list(CIPHERS))
def test_every_cipher_round_trips_bodies_of_awkward_lengths(name: str, length: int) -> None:
    cipher = CIPHERS[name]()
    plaintext = bytes((i * 7 + length) % 256 for i in range(length))
    ciphertext = cipher.encrypt(plaintext)
    assert cipher.decrypt(ciphertext) == plaintext
    if name != "none" and length > 8:
        assert plaintext not in ciphertext


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(list(CIPHERS)), plaintext=st.binary(max_size=700))
def test_every_cipher_round_trips_arbitrary_bytes(name: str, plaintext: bytes) -> None:
    cipher = CIPHERS[name]()
    assert cipher.decrypt(cipher.encrypt(plaintext)) == plaintext


@pytest.mark.parametrize("length", LENGTHS)
def test_ciphertext_sizes_follow_each_scheme(length: int) -> None:
    whole_blocks = -(-length // 16) * 16
    assert len(FtAesEcbCipher(AES_KEY).encrypt(bytes(length))) == whole_blocks + 16
    assert len(AesCbcCipher(AES_KEY, AES_IV).encrypt(bytes(length))) == (length // 16 + 1) * 16
    assert len(AesEcbCipher(AES_KEY).encrypt(bytes(length))) == (length // 16 + 1) * 16
    assert len(RsaCipher(rsa_key(1024)).encrypt(bytes(length))) == -(-length // 100) * 128
    assert len(RsaCipher(rsa_key(2048)).encrypt(bytes(length))) == -(-length // 200) * 256


def test_rsa_chunk_sizes_match_the_sdk_for_1024_bit_keys_and_scale_with_the_key() -> None:
    for bits, chunk in [(1024, 100), (2048, 200), (3072, 300)]:
        cipher = RsaCipher(rsa_key(bits))
        assert (cipher.key_size, cipher.plaintext_chunk, cipher.ciphertext_chunk) == (
            bits,
            chunk,
            bits // 8,
        )


def test_cbc_starts_a_fresh_chain_for_every_packet() -> None:
    cipher = AesCbcCipher(AES_KEY, AES_IV)
    first = cipher.encrypt(b"same body")
    cipher.encrypt(b"something else in between, longer than a block")
    assert cipher.encrypt(b"same body") == first
    later = cipher.encrypt(b"later")
    # Packets decrypt in any order, each on its own.
    assert cipher.decrypt(later) == b"later"
    assert cipher.decrypt(first) == b"same body"


@pytest.mark.parametrize("make", [FtAesEcbCipher, AesEcbCipher])
def test_ecb_ciphers_stay_correct_across_many_interleaved_packets(
    make: Callable[[bytes], BodyCipher],
) -> None:
    sender, receiver = make(AES_KEY), make(AES_KEY)
    bodies = [bytes([n]) * n for n in range(0, 70, 3)]
    wire = [sender.encrypt(body) for body in bodies]
    assert [receiver.decrypt(w) for w in reversed(wire)] == list(reversed(bodies))
    # A failed decryption leaves the cipher usable.
    with pytest.raises(DecryptionError):
        receiver.decrypt(b"\x01" * 15)
    assert receiver.decrypt(wire[5]) == bodies[5]


def test_no_cipher_is_the_identity_and_null_cipher_is_one() -> None:
    assert isinstance(NULL_CIPHER, NoCipher)
    body = b"\x00plain\xff"
    assert NULL_CIPHER.encrypt(body) is body
    assert NULL_CIPHER.decrypt(body) is body


# --- known answers -----------------------------------------------------------


def test_ftaes_ecb_of_whole_blocks_is_plain_ecb_plus_a_zero_length_block() -> None:
    assert FtAesEcbCipher(NIST_KEY).encrypt(NIST_PLAIN) == NIST_ECB + bytes(16)
    assert FtAesEcbCipher(NIST_KEY).decrypt(NIST_ECB + bytes(16)) == NIST_PLAIN


def test_ftaes_ecb_known_answer_for_a_partial_last_block() -> None:
    plaintext = b"asyncquote FTAEStest"  # 20 bytes: 4 in the last block
    expected = bytes.fromhex(
        "c7ba85f59edebb70e55c5f4b7a9abf2a"
        "733dafb1c672d06b49a4e8de54b58e25"
        "00000000000000000000000000000004"
    )
    assert FtAesEcbCipher(NIST_KEY).encrypt(plaintext) == expected
    assert FtAesEcbCipher(NIST_KEY).decrypt(expected) == plaintext


def test_ftaes_ecb_of_an_empty_body_is_just_the_length_block() -> None:
    assert FtAesEcbCipher(NIST_KEY).encrypt(b"") == bytes(16)
    assert FtAesEcbCipher(NIST_KEY).decrypt(bytes(16)) == b""


def test_cbc_known_answers_start_with_the_nist_vector() -> None:
    cipher = AesCbcCipher(NIST_KEY, NIST_IV)
    # Whole blocks gain one block of padding (0x10 * 16) after the NIST blocks.
    padded = NIST_CBC + bytes.fromhex("55e21d7100b988ffec32feeafaf23538")
    assert cipher.encrypt(NIST_PLAIN) == padded
    assert cipher.decrypt(padded) == NIST_PLAIN
    short = bytes.fromhex("4f2424b309aeb23d403922d97239dcf2ad6df51fecc9da9e49b07a679c2edf9e")
    assert cipher.encrypt(b"asyncquote FTAEStest") == short
    assert cipher.decrypt(short) == b"asyncquote FTAEStest"


def test_standard_ecb_of_whole_blocks_starts_with_the_nist_vector() -> None:
    ciphertext = AesEcbCipher(NIST_KEY).encrypt(NIST_PLAIN)
    assert ciphertext[:32] == NIST_ECB
    assert len(ciphertext) == 48


# --- interoperability with PyCryptodome --------------------------------------


@pytest.fixture(scope="module")
def pycryptodome() -> SimpleNamespace:
    pytest.importorskip("Crypto")
    from Crypto.Cipher import AES, PKCS1_v1_5
    from Crypto.PublicKey import RSA
    from Crypto.Util.Padding import pad, unpad

    return SimpleNamespace(AES=AES, PKCS1_v1_5=PKCS1_v1_5, RSA=RSA, pad=pad, unpad=unpad)


def ref_rsa_encrypt(lib: SimpleNamespace, pem: bytes, data: bytes, chunk: int) -> bytes:
    cipher = lib.PKCS1_v1_5.new(lib.RSA.import_key(pem))
    return b"".join(cipher.encrypt(data[i : i + chunk]) for i in range(0, len(data), chunk))


def ref_rsa_decrypt(lib: SimpleNamespace, pem: bytes, data: bytes, block: int) -> bytes:
    cipher = lib.PKCS1_v1_5.new(lib.RSA.import_key(pem))
    parts: list[bytes] = []
    for i in range(0, len(data), block):
        part = cipher.decrypt(data[i : i + block], None)
        assert part is not None, "PyCryptodome rejected a block"
        parts.append(part)
    return b"".join(parts)


def ref_ftaes_encrypt(lib: SimpleNamespace, key: bytes, data: bytes) -> bytes:
    tail = len(data) % 16
    padded = data + bytes((16 - tail) % 16)
    encrypted: bytes = lib.AES.new(key, lib.AES.MODE_ECB).encrypt(padded)
    return encrypted + bytes(15) + bytes([tail])


def ref_ftaes_decrypt(lib: SimpleNamespace, key: bytes, data: bytes) -> bytes:
    tail = data[-1]
    plain: bytes = lib.AES.new(key, lib.AES.MODE_ECB).decrypt(data[:-16])
    return plain[: len(plain) - (16 - tail)] if tail else plain


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("bits", [1024, 2048])
def test_rsa_bodies_cross_decrypt_with_pycryptodome(
    pycryptodome: SimpleNamespace, bits: int, length: int
) -> None:
    key = rsa_key(bits)
    pem = pkcs1_pem(key)
    ours = RsaCipher(key)
    data = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    assert ref_rsa_decrypt(pycryptodome, pem, ours.encrypt(data), bits // 8) == data
    # PyCryptodome cuts 100-byte chunks whatever the key, as the SDK does; any
    # chunking decrypts the same, since blocks are key-sized.
    assert ours.decrypt(ref_rsa_encrypt(pycryptodome, pem, data, 100)) == data


def test_rsa_blocks_hold_the_sdks_100_byte_chunks(pycryptodome: SimpleNamespace) -> None:
    pem = pkcs1_pem(rsa_key(1024))
    data = bytes(range(250))
    wire = RsaCipher(rsa_key(1024)).encrypt(data)
    blocks = [wire[i : i + 128] for i in range(0, len(wire), 128)]
    assert [ref_rsa_decrypt(pycryptodome, pem, b, 128) for b in blocks] == [
        data[:100],
        data[100:200],
        data[200:],
    ]


def test_a_key_exported_by_pycryptodome_loads_and_interoperates(
    pycryptodome: SimpleNamespace, tmp_path: Path
) -> None:
    theirs = pycryptodome.RSA.generate(1024)
    path = tmp_path / "conn_key.txt"
    path.write_bytes(theirs.export_key())  # PKCS#1 PEM, the SDK's format
    ours = load_rsa_private_key(path)
    assert ours.key_size == 1024
    pem = theirs.export_key()
    assert ours.decrypt(ref_rsa_encrypt(pycryptodome, pem, b"hello OpenD" * 20, 100)) == (
        b"hello OpenD" * 20
    )
    assert ref_rsa_decrypt(pycryptodome, pem, ours.encrypt(b"reply"), 128) == b"reply"


@pytest.mark.parametrize("length", LENGTHS)
def test_aes_cbc_cross_decrypts_with_pycryptodome(
    pycryptodome: SimpleNamespace, length: int
) -> None:
    lib = pycryptodome
    data = bytes((i * 13) % 251 for i in range(length))
    ours = AesCbcCipher(AES_KEY, AES_IV)
    theirs = lib.AES.new(AES_KEY, lib.AES.MODE_CBC, iv=AES_IV)
    assert lib.unpad(theirs.decrypt(ours.encrypt(data)), 16) == data
    theirs = lib.AES.new(AES_KEY, lib.AES.MODE_CBC, iv=AES_IV)
    assert ours.decrypt(theirs.encrypt(lib.pad(data, 16))) == data


@pytest.mark.parametrize("length", LENGTHS)
def test_ftaes_ecb_cross_decrypts_with_a_pycryptodome_rebuild_of_the_sdk(
    pycryptodome: SimpleNamespace, length: int
) -> None:
    data = bytes((i * 29) % 253 for i in range(length))
    ours = FtAesEcbCipher(AES_KEY)
    assert ref_ftaes_decrypt(pycryptodome, AES_KEY, ours.encrypt(data)) == data
    assert ours.decrypt(ref_ftaes_encrypt(pycryptodome, AES_KEY, data)) == data
    assert ours.encrypt(data) == ref_ftaes_encrypt(pycryptodome, AES_KEY, data)


@pytest.mark.parametrize("length", LENGTHS)
def test_standard_aes_ecb_cross_decrypts_with_pycryptodome(
    pycryptodome: SimpleNamespace, length: int
) -> None:
    lib = pycryptodome
    data = bytes((i * 31) % 255 for i in range(length))
    ours = AesEcbCipher(AES_KEY)
    theirs = lib.AES.new(AES_KEY, lib.AES.MODE_ECB)
    assert ours.encrypt(data) == theirs.encrypt(lib.pad(data, 16))
    assert ours.decrypt(theirs.encrypt(lib.pad(data, 16))) == data


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bodies_agree_with_pycryptodome(data: bytes) -> None:
    pytest.importorskip("Crypto")
    from Crypto.Cipher import AES
    from Crypto.Util.Padding import pad

    cbc = AES.new(AES_KEY, AES.MODE_CBC, iv=AES_IV).encrypt(pad(data, 16))
    assert AesCbcCipher(AES_KEY, AES_IV).encrypt(data) == cbc
    lib = SimpleNamespace(AES=AES)
    assert FtAesEcbCipher(AES_KEY).encrypt(data) == ref_ftaes_encrypt(lib, AES_KEY, data)


# --- wire integration --------------------------------------------------------


@pytest.mark.parametrize("name", ENCRYPTING)
def test_an_encrypted_frame_decodes_and_verifies_against_its_plaintext_digest(name: str) -> None:
    cipher = CIPHERS[name]()
    body = b"\x08\x01\x12\x05hello" * 9
    wire = encode_frame(1001, 7, cipher.encrypt(body), plaintext=body)
    (frame,) = FrameDecoder(verify_sha1=False).feed(wire)
    assert frame.body_sha1 == hashlib.sha1(body).digest()
    assert decrypt_body(cipher, frame.body, frame.body_sha1) == body


# --- errors ------------------------------------------------------------------


def test_decryption_error_is_a_protocol_error() -> None:
    assert issubclass(DecryptionError, ProtocolError)


@pytest.mark.parametrize("name", ENCRYPTING)
def test_a_wrong_key_is_caught_by_the_digest_check(name: str) -> None:
    body = b"InitConnect reply " * 12
    ciphertext = CIPHERS[name]().encrypt(body)
    wrong = WRONG_KEY_CIPHERS[name]()
    with pytest.raises(DecryptionError):
        decrypt_body(wrong, ciphertext, hashlib.sha1(body).digest())


@pytest.mark.parametrize("name", ENCRYPTING)
def test_a_wrong_key_never_yields_the_plaintext_nor_a_library_error(name: str) -> None:
    body = b"quote data " * 30
    ciphertext = CIPHERS[name]().encrypt(body)
    try:
        result = WRONG_KEY_CIPHERS[name]().decrypt(ciphertext)
    except DecryptionError:
        return
    assert result != body


def test_a_wrong_aes_key_fails_cbc_padding() -> None:
    # With these fixed keys the decrypted padding byte is invalid.
    ciphertext = AesCbcCipher(AES_KEY, AES_IV).encrypt(b"watchlist")
    with pytest.raises(DecryptionError, match="padding"):
        AesCbcCipher(OTHER_AES_KEY, AES_IV).decrypt(ciphertext)


def test_a_digest_mismatch_is_a_decryption_error_even_without_encryption() -> None:
    with pytest.raises(DecryptionError, match="SHA-1"):
        decrypt_body(NULL_CIPHER, b"body", hashlib.sha1(b"other").digest())


@pytest.mark.parametrize("name", ENCRYPTING)
@pytest.mark.parametrize("cut", [1, 15, 16, 17])
def test_truncated_ciphertext_is_a_decryption_error(name: str, cut: int) -> None:
    cipher = CIPHERS[name]()
    ciphertext = cipher.encrypt(b"x" * 300)
    with pytest.raises(DecryptionError):
        cipher.decrypt(ciphertext[:-cut])


@pytest.mark.parametrize(
    ("name", "garbage"),
    [
        ("ftaes_ecb", b""),
        ("ftaes_ecb", b"\x00" * 15),
        ("ftaes_ecb", b"\x00" * 33),
        ("ftaes_ecb", b"\x00" * 31 + b"\x10"),  # length byte beyond a block
        ("ftaes_ecb", b"\x00" * 15 + b"\x05"),  # partial block but no data
        ("aes_ecb", b""),
        ("aes_ecb", b"\x00" * 20),
        ("aes_cbc", b""),
        ("aes_cbc", b"\x00" * 47),
        ("rsa1024", b"\x00" * 127),
        ("rsa1024", b"\xff" * 128),  # not below the modulus
        ("rsa2048", b"\xff" * 256),
        ("rsa2048", b"\x00" * 128),  # a 1024-bit block
    ],
)
def test_garbage_is_a_decryption_error(name: str, garbage: bytes) -> None:
    with pytest.raises(DecryptionError):
        CIPHERS[name]().decrypt(garbage)


def test_cbc_padding_is_checked_strictly() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = Cipher(algorithms.AES(AES_KEY), modes.CBC(AES_IV)).encryptor()
    for bad_tail in [bytes(16), b"\x00" * 15 + b"\x11", b"\x00" * 14 + b"\x01\x02"]:
        ciphertext = raw.update(bad_tail)
        raw = Cipher(algorithms.AES(AES_KEY), modes.CBC(AES_IV)).encryptor()
        with pytest.raises(DecryptionError, match="padding"):
            AesCbcCipher(AES_KEY, AES_IV).decrypt(ciphertext)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(ENCRYPTING), garbage=st.binary(max_size=600))
def test_arbitrary_garbage_only_ever_raises_decryption_error(name: str, garbage: bytes) -> None:
    try:
        result = CIPHERS[name]().decrypt(garbage)
    except DecryptionError:
        return
    assert isinstance(result, bytes)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["rsa1024", "rsa2048"]),
    blocks=st.integers(min_value=1, max_value=3),
    seed=st.binary(min_size=1, max_size=64),
)
def test_block_sized_rsa_garbage_only_ever_raises_decryption_error(
    name: str, blocks: int, seed: bytes
) -> None:
    cipher = CIPHERS[name]()
    assert isinstance(cipher, RsaCipher)
    garbage = (seed * (cipher.ciphertext_chunk // len(seed) + 1))[: cipher.ciphertext_chunk]
    with contextlib.suppress(DecryptionError):
        cipher.decrypt(garbage * blocks)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: AesCbcCipher(b"short", AES_IV), id="cbc-5-byte-key"),
        pytest.param(lambda: AesCbcCipher(AES_KEY + b"\x00", AES_IV), id="cbc-17-byte-key"),
        pytest.param(lambda: AesCbcCipher(AES_KEY, AES_IV[:8]), id="cbc-8-byte-iv"),
        pytest.param(lambda: AesCbcCipher(AES_KEY, "0123456789abcdef"), id="cbc-str-iv"),  # type: ignore[arg-type]
        pytest.param(lambda: FtAesEcbCipher(b""), id="ftaes-empty-key"),
        pytest.param(lambda: FtAesEcbCipher("0123456789abcdef"), id="ftaes-str-key"),  # type: ignore[arg-type]
        pytest.param(lambda: AesEcbCipher(bytes(33)), id="ecb-33-byte-key"),
        pytest.param(lambda: cipher_for_connection(2, AES_KEY, None), id="cbc-without-iv"),
        pytest.param(lambda: cipher_for_connection(3, AES_KEY, AES_IV), id="unknown-algo"),
        pytest.param(lambda: cipher_for_connection(0, 12345, None), id="int-key"),  # type: ignore[arg-type]
        pytest.param(lambda: cipher_for_connection(0, "too short", None), id="short-text-key"),
        pytest.param(lambda: RsaCipher(rsa_key(1024).public_key()), id="rsa-public-key"),  # type: ignore[arg-type]
        pytest.param(lambda: RsaCipher(b"-----BEGIN RSA PRIVATE KEY-----"), id="rsa-pem-bytes"),  # type: ignore[arg-type]
        pytest.param(
            lambda: RsaCipher(ec.generate_private_key(ec.SECP256R1())),  # type: ignore[arg-type]
            id="rsa-given-ec-key",
        ),
    ],
)
def test_bad_key_inputs_are_invalid_argument_errors(build: Callable[[], Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        build()


def test_rsa_cipher_names_a_public_key_as_the_problem() -> None:
    with pytest.raises(InvalidArgumentError, match="public key"):
        RsaCipher(rsa_key(1024).public_key())  # type: ignore[arg-type]


# --- loading keys ------------------------------------------------------------


@pytest.mark.parametrize("encode", [pkcs1_pem, pkcs8_pem], ids=["pkcs1", "pkcs8"])
def test_load_accepts_pkcs1_and_pkcs8_pem_as_bytes_text_and_paths(
    encode: Callable[[rsa.RSAPrivateKey], bytes], tmp_path: Path
) -> None:
    key = rsa_key(1024)
    pem = encode(key)
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    secret = RsaCipher(key).encrypt(b"InitConnect")
    for source in [pem, pem.decode(), path, str(path)]:
        assert load_rsa_private_key(source).decrypt(secret) == b"InitConnect"  # type: ignore[arg-type]


def test_load_accepts_der_bytes() -> None:
    key = rsa_key(1024)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert load_rsa_private_key(der).decrypt(RsaCipher(key).encrypt(b"ok")) == b"ok"


def test_load_reports_a_missing_file_as_an_invalid_argument(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="cannot read"):
        load_rsa_private_key(tmp_path / "absent.pem")


def test_load_names_a_public_key_as_the_problem() -> None:
    public_pem = (
        rsa_key(1024)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    )
    with pytest.raises(InvalidArgumentError, match="public key"):
        load_rsa_private_key(public_pem)


def test_load_rejects_password_protected_keys() -> None:
    encrypted = rsa_key(1024).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter22"),
    )
    with pytest.raises(InvalidArgumentError, match="encrypted"):
        load_rsa_private_key(encrypted)


def test_load_rejects_non_rsa_private_keys() -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(InvalidArgumentError, match="not an RSA key"):
        load_rsa_private_key(ec_pem)


@pytest.mark.parametrize("source", [b"", b"not a key", b"-----BEGIN RSA PRIVATE KEY-----\nAAAA"])
def test_load_rejects_garbage(source: bytes) -> None:
    with pytest.raises(InvalidArgumentError):
        load_rsa_private_key(source)


def test_load_rejects_arguments_that_are_neither_paths_nor_pem() -> None:
    with pytest.raises(InvalidArgumentError):
        load_rsa_private_key(42)  # type: ignore[arg-type]


# --- keys stay secret --------------------------------------------------------


def test_aes_key_material_is_absent_from_cipher_reprs() -> None:
    for cipher in [
        FtAesEcbCipher(AES_KEY),
        AesEcbCipher(AES_KEY),
        AesCbcCipher(AES_KEY, AES_IV),
        cipher_for_connection(2, AES_KEY.hex()[:16], AES_KEY.hex()[16:]),
    ]:
        text = repr(cipher) + str(cipher)
        for secret in [AES_KEY, AES_IV, AES_KEY.hex()[:16].encode(), AES_KEY.hex()[16:].encode()]:
            for form in forms_of(secret):
                assert form not in text
        assert "128-bit" in text


def test_rsa_key_material_is_absent_from_cipher_reprs() -> None:
    key = rsa_key(1024)
    cipher = RsaCipher(key)
    text = repr(cipher) + str(cipher)
    numbers = key.private_numbers()
    for value in [numbers.d, numbers.p, numbers.q, numbers.public_numbers.n]:
        assert str(value) not in text
        assert f"{value:x}" not in text
    for line in pkcs1_pem(key).decode().splitlines()[1:-1]:
        assert line not in text
    assert text == "RsaCipher(<1024-bit private key>)" * 2


def test_key_material_is_absent_from_error_messages(tmp_path: Path) -> None:
    near_key = b"0123456789abcde"  # one byte short of a key: looks like a real one
    pem = pkcs1_pem(rsa_key(1024))
    broken_pem = pem[: len(pem) // 2]
    path = tmp_path / "broken.pem"
    path.write_bytes(broken_pem)
    attempts: list[tuple[Callable[[], object], list[bytes]]] = [
        (lambda: AesCbcCipher(near_key, AES_IV), [near_key]),
        (lambda: AesCbcCipher(AES_KEY, near_key), [AES_KEY, near_key]),
        (lambda: FtAesEcbCipher(near_key), [near_key]),
        (lambda: cipher_for_connection(0, near_key.decode(), None), [near_key]),
        (lambda: cipher_for_connection(2, AES_KEY, None), [AES_KEY]),
        (lambda: AesCbcCipher(OTHER_AES_KEY, AES_IV).decrypt(bytes(32)), [OTHER_AES_KEY]),
        (lambda: FtAesEcbCipher(AES_KEY).decrypt(bytes(15)), [AES_KEY]),
        (lambda: load_rsa_private_key(broken_pem), []),
        (lambda: load_rsa_private_key(path), []),
        (lambda: RsaCipher(rsa_key(1024)).decrypt(b"\xff" * 128), []),
    ]
    pem_lines = [line.encode() for line in pem.decode().splitlines()[1:-1]]
    for attempt, secrets in attempts:
        with pytest.raises((InvalidArgumentError, DecryptionError)) as caught:
            attempt()
        text = "\n".join(messages(caught.value))
        for secret in secrets:
            for form in forms_of(secret):
                assert form not in text, text
        for line in pem_lines:
            assert line.decode() not in text, text


# --- negotiation -------------------------------------------------------------


def test_packet_enc_algo_matches_the_protocol_enum() -> None:
    generated = {
        name.removeprefix("PacketEncAlgo_").upper(): value
        for name, value in Common_pb2.PacketEncAlgo.items()
    }
    assert generated == {member.name: member.value for member in PacketEncAlgo}


def test_cipher_for_connection_maps_each_algorithm() -> None:
    assert cipher_for_connection(-1, "", None) is NULL_CIPHER
    assert isinstance(cipher_for_connection(0, AES_KEY, None), FtAesEcbCipher)
    assert isinstance(cipher_for_connection(1, AES_KEY, None), AesEcbCipher)
    assert isinstance(cipher_for_connection(2, AES_KEY, AES_IV), AesCbcCipher)
    assert isinstance(cipher_for_connection(PacketEncAlgo.AES_CBC, AES_KEY, AES_IV), AesCbcCipher)


def test_cipher_for_connection_takes_key_and_iv_as_initconnect_text() -> None:
    # connAESKey and aesCBCiv are protobuf strings; their UTF-8 bytes are the key.
    key_text, iv_text = "Kq3vN8xP0aZ7mW2e", "r5Tb9LcY1uQd6HsJ"
    by_text = cipher_for_connection(2, key_text, iv_text)
    by_bytes = AesCbcCipher(key_text.encode(), iv_text.encode())
    assert by_text.encrypt(b"body") == by_bytes.encrypt(b"body")
    ft = cipher_for_connection(0, key_text, iv_text)  # the IV is ignored for ECB
    assert ft.decrypt(FtAesEcbCipher(key_text.encode()).encrypt(b"body")) == b"body"


# --- optional dependency -----------------------------------------------------


def test_the_package_imports_and_explains_itself_without_cryptography() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["cryptography"] = None  # as if not installed
        import asyncquote
        from asyncquote._opend import crypto
        assert crypto.NULL_CIPHER.encrypt(b"x") == b"x"
        assert crypto.cipher_for_connection(-1, "", None) is crypto.NULL_CIPHER
        for attempt in (
            lambda: crypto.AesCbcCipher(bytes(16), bytes(16)),
            lambda: crypto.cipher_for_connection(0, bytes(16), None),
            lambda: crypto.load_rsa_private_key(b"-----BEGIN RSA PRIVATE KEY-----"),
        ):
            try:
                attempt()
            except ImportError as exc:
                assert 'pip install -e ".[crypto]"' in str(exc), exc
            else:
                raise AssertionError("no ImportError")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
