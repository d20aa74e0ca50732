"""RSA keys for the encryption tests, generated per test session (never committed)."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def rsa_pem(name: str, bits: int = 1024) -> bytes:
    """A fresh RSA private key as PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"), the same for one ``name``.

    1024 bits by default: the only size the official SDK can use.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
