"""Typed, frozen models of what OpenD returns.

The models mirror the protobuf messages field for field, with snake_case names.
Three rules hold throughout:

* **Absent is ``None``.** A proto2 ``optional`` field the gateway did not send
  is ``None`` here, never a made-up default such as ``0`` or ``""``.
* **Text is always ``str``.** A string field the gateway sent as bytes that
  are not UTF-8 holds U+FFFD in place of each undecodable byte (see
  :mod:`asyncquote._models.convert`), never ``bytes``.
* **Unknown enum values survive.** A newer gateway may send a market or
  security type this version does not know. Such fields are typed like
  ``Market | int``: a known value is always the enum member, an unknown one
  stays the raw ``int``, and decoding never fails because of it.

Instances are immutable and hashable, so they can be dict keys and set members.
Converting from protobuf lives in :mod:`asyncquote._models.convert`.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

from .._base.args import is_plain_text
from .._base.errors import InvalidArgumentError

# The enumerations are OpenD vocabulary, re-exported: they were always
# importable from here.
from .._opend.vocabulary import (
    CodeError,
    Market,
    OptionType,
    ProtocolEnum,
    SecurityType,
    WarrantType,
    format_code,
    parse_code,
)

__all__ = [
    "FutureStaticExData",
    "Market",
    "OptionStaticExData",
    "OptionType",
    "Security",
    "SecurityStaticBasic",
    "SecurityStaticInfo",
    "SecurityType",
    "WarrantStaticExData",
    "WarrantType",
]

_E = TypeVar("_E", bound=ProtocolEnum)


def _known_member(enum_cls: type[_E]) -> AfterValidator:
    """Validator turning a plain ``int`` into its enum member when there is one.

    Pydantic's smart union would otherwise keep a known ``1`` as ``int`` in a
    ``Market | int`` field; this makes validated and trusted models agree.
    """

    def to_member(value: _E | int) -> _E | int:
        return enum_cls.from_value(value)

    return AfterValidator(to_member)


_MarketValue = Annotated[Market | int, _known_member(Market)]
_SecurityTypeValue = Annotated[SecurityType | int, _known_member(SecurityType)]
_WarrantTypeValue = Annotated[WarrantType | int, _known_member(WarrantType)]
_OptionTypeValue = Annotated[OptionType | int, _known_member(OptionType)]


class _Model(BaseModel):
    """Base of the public models: immutable, hashable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Security(_Model):
    """A security: market plus code, written ``"HK.00700"`` as in the official SDK.

    ``str()`` gives the SDK's code string; :meth:`parse` reads one back. As in
    the SDK, a security whose market is ``NONE`` or unknown to this version
    prints with an ``"N/A"`` prefix (``repr()`` still shows the raw value).
    """

    market: _MarketValue
    """Quote market; an ``int`` if this version does not know it."""
    code: str
    """Code within the market, verbatim (``"00700"``, ``"AAPL"``, ``"HSImain"``)."""

    def __str__(self) -> str:
        return format_code((self.market, self.code))

    @classmethod
    def parse(cls, text: str) -> Security:
        """Read a code string such as ``"HK.00700"`` or ``"US.BRK.B"``.

        The text before the first ``.`` is the market prefix. It is matched
        case-insensitively (``"hk.00700"`` is accepted and normalised to
        ``HK``); the code after it is kept exactly as written, since codes such
        as ``"HSImain"`` are case-sensitive. ``"N/A"`` is not a market that can
        be asked for. The rule is :func:`asyncquote._opend.vocabulary.parse_code`'s.

        Raises:
            InvalidArgumentError: ``text`` is not a string, contains
                whitespace, a control character or a lone surrogate, has no
                ``.``, has an empty code, or names an unknown market.
        """
        if not isinstance(text, str):
            raise InvalidArgumentError(
                f"security code must be a str like 'HK.00700', not {type(text).__name__}"
            )
        if any(ch.isspace() for ch in text):
            raise InvalidArgumentError(
                f"security code {text!r} contains whitespace; expected e.g. 'HK.00700'"
            )
        if not is_plain_text(text):
            raise InvalidArgumentError(
                f"security code {text!r} contains a control character or a lone surrogate; "
                "expected e.g. 'HK.00700'"
            )
        try:
            market, code = parse_code(text, ignore_case=True)
        except CodeError as exc:
            raise InvalidArgumentError(f"security code {text!r} {exc.reason}") from None
        return cls(market=market, code=code)


class SecurityStaticBasic(_Model):
    """Static facts every security has (``Qot_Common.SecurityStaticBasic``)."""

    security: Security
    """Market and code."""
    id: int
    """OpenD's numeric id of the security."""
    lot_size: int
    """Shares per board lot (0 for indexes)."""
    sec_type: _SecurityTypeValue
    """Kind of security; an ``int`` if this version does not know it."""
    name: str
    """Display name."""
    list_time: str
    """Listing date as OpenD formats it (``"2004-06-16"``); may be empty."""
    delisting: bool | None = None
    """Whether the security is delisted; ``None`` if the gateway did not say."""
    list_timestamp: float | None = None
    """Listing time as a Unix timestamp; ``None`` if absent."""
    exch_type: int | None = None
    """Exchange type code; ``None`` if absent."""


class WarrantStaticExData(_Model):
    """Warrant-only facts (``Qot_Common.WarrantStaticExData``)."""

    type: _WarrantTypeValue
    """Kind of warrant; an ``int`` if this version does not know it."""
    owner: Security
    """The underlying security."""


class OptionStaticExData(_Model):
    """Option-only facts (``Qot_Common.OptionStaticExData``)."""

    type: _OptionTypeValue
    """Call or put; an ``int`` if this version does not know it."""
    owner: Security
    """The underlying security."""
    strike_time: str
    """Expiry date as OpenD formats it (``"2026-03-30"``)."""
    strike_price: float
    """Strike price."""
    suspend: bool
    """Whether trading is suspended."""
    market: str
    """Market the option trades on, as text (e.g. ``"HK"``)."""
    strike_timestamp: float | None = None
    """Expiry as a Unix timestamp; ``None`` if absent."""
    index_option_type: int | None = None
    """Index option type code; ``None`` if absent."""
    expiration_cycle: int | None = None
    """Expiration cycle code; ``None`` if absent."""
    option_standard_type: int | None = None
    """Standard/non-standard option code; ``None`` if absent."""
    option_settlement_mode: int | None = None
    """Settlement mode code; ``None`` if absent."""


class FutureStaticExData(_Model):
    """Future-only facts (``Qot_Common.FutureStaticExData``)."""

    last_trade_time: str
    """Last trading day as OpenD formats it; empty for main contracts."""
    last_trade_timestamp: float | None = None
    """Last trading time as a Unix timestamp; ``None`` if absent."""
    is_main_contract: bool
    """Whether this is the continuous main contract."""


class SecurityStaticInfo(_Model):
    """One watchlist entry (``Qot_Common.SecurityStaticInfo``).

    At most one of the ``*_ex_data`` fields is set, matching the security's kind.
    """

    basic: SecurityStaticBasic
    """Facts every security has."""
    warrant_ex_data: WarrantStaticExData | None = None
    """Warrant facts, or ``None`` if this is not a warrant."""
    option_ex_data: OptionStaticExData | None = None
    """Option facts, or ``None`` if this is not an option."""
    future_ex_data: FutureStaticExData | None = None
    """Future facts, or ``None`` if this is not a future."""

    @property
    def security(self) -> Security:
        """Shortcut for ``basic.security``."""
        return self.basic.security
