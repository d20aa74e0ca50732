"""Text off the wire: protobuf gives ``bytes`` for a string field that is not UTF-8."""

from __future__ import annotations

__all__ = ["wire_text"]


def wire_text(value: object) -> str:
    """``value`` as ``str``: undecodable bytes become U+FFFD (the replacement character).

    The protobuf runtime returns ``bytes`` instead of ``str`` for a proto2
    ``string`` field holding invalid UTF-8. Callers check ``value.__class__
    is str`` first, so valid text costs one comparison.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)
