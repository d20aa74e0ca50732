"""``wire_text``: protobuf's ``bytes`` for a string field that is not UTF-8, made text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncquote._base.text import wire_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("腾讯控股", "腾讯控股"),
        ("腾讯".encode(), "腾讯"),
        (b"bad \xff byte", "bad \ufffd byte"),
        (bytearray(b"\xe8\x85"), "\ufffd"),  # a character cut short
        (memoryview(b"ok"), "ok"),
        (7, "7"),
    ],
)
def test_text_stays_text_and_bytes_decode_with_replacement(value: object, text: str) -> None:
    assert wire_text(value) == text


@given(st.text())
def test_utf8_bytes_of_any_text_give_the_text_back(text: str) -> None:
    assert wire_text(text.encode()) == text
