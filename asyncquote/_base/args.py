"""Checking the caller's arguments: one rule for every duration."""

from __future__ import annotations

import math
import unicodedata

from .errors import InvalidArgumentError

__all__ = [
    "check_duration",
    "check_flag",
    "check_host_name",
    "check_int",
    "check_text",
    "host_name_error",
    "is_plain_text",
]


def check_duration(
    name: str, value: object, *, positive: bool = False, finite: bool = False
) -> float:
    """Return ``value`` if it is a valid number of seconds, else raise.

    Accepted: an ``int`` or ``float`` (not a ``bool``), not NaN, not negative;
    zero only unless ``positive``, ``math.inf`` only unless ``finite``.

    Raises:
        InvalidArgumentError: anything else; the message names the argument.
    """
    cls = value.__class__
    # The common case (a float or an int) costs two comparisons.
    if (cls is not float and cls is not int) and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        raise InvalidArgumentError(
            f"{name} must be a number of seconds, not {cls.__name__} {value!r}"
        )
    number: float = value  # type: ignore[assignment]
    if not number >= 0 or (positive and number == 0) or (finite and number == math.inf):
        need = "> 0" if positive else ">= 0"
        inf = "finite" if finite else "math.inf for no limit"
        raise InvalidArgumentError(
            f"{name} must be a number of seconds {need} ({inf}), not {value!r}"
        )
    return number


def check_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in range, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an int, not {type(value).__name__} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise InvalidArgumentError(f"{name} must be {bounds}, not {value!r}")
    return value


def check_flag(name: str, value: object) -> bool:
    """Return ``value`` if it is a ``bool``, else raise."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be True or False, not {value!r}")
    return value


def check_text(name: str, value: object, *, optional: bool = False) -> str | None:
    """Return ``value`` if it is a ``str`` that can go on the wire (see :func:`is_plain_text`).

    ``optional`` lets ``None`` through as well. Protobuf strings, name lookups
    and MD5 digests all encode as UTF-8, which a lone surrogate is not.

    Raises:
        InvalidArgumentError: anything else; the message names the argument.
    """
    if value is None and optional:
        return None
    or_none = " or None" if optional else ""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str{or_none}, not {value!r}")
    if not is_plain_text(value):
        raise InvalidArgumentError(
            f"{name} must be plain text (no control characters or lone surrogates){or_none}, "
            f"not {value!r}"
        )
    return value


def check_host_name(host: str) -> str:
    """Return ``host`` if the name lookup can encode it, else raise.

    asyncio's lookup encodes a name with Python's IDNA codec, and fails on an
    empty or over-long label (``"a..b"``, 64 letters) with a bare
    ``UnicodeError``: checked here, before connecting.

    Raises:
        InvalidArgumentError: the label problem, naming ``host``.
    """
    try:
        host.encode("idna")
    except UnicodeError as exc:
        raise host_name_error(host, exc) from None
    return host


def host_name_error(host: str, cause: UnicodeError) -> InvalidArgumentError:
    """The error for ``host``, whose encoding for the name lookup failed with ``cause``."""
    reason = cause.__cause__ or cause
    return InvalidArgumentError(
        f"host {host!r} is not a valid host name ({reason}); give a host name "
        "whose dot-separated parts are 1 to 63 letters, digits or hyphens, or an IP address"
    )


def is_plain_text(text: str) -> bool:
    """True if ``text`` can go on the wire as a name: no control characters
    (NUL, tabs, newlines...) and no lone surrogates (which are not UTF-8).

    Costs one ``str.isprintable()`` for ordinary text; spaces of any script
    and every letter are fine.
    """
    return text.isprintable() or not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
