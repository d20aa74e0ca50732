"""Typed, frozen models of OpenD's own state: what GetGlobalState (1002)
reports and what the client knows from Notify (1003) pushes.

These follow the rules of :mod:`asyncquote._models.watchlist` (absent is ``None``,
text is ``str``, unknown enum values stay ``int``), with one difference:
fields are named for what they mean (``quote_logged_in``), not after the
protocol's abbreviations (``qotLogined``); each docstring names the field.
"""

from __future__ import annotations

from typing import Annotated

from .._opend.health_vocabulary import (
    PROGRAM_STATUS_TEXTS,
    MarketState,
    ProgramStatusType,
    QuoteRight,
)
from .watchlist import _known_member, _Model

__all__ = ["GatewayStatus", "GlobalState", "ProgramStatus", "QuoteRights"]

_ProgramStatusValue = Annotated[ProgramStatusType | int, _known_member(ProgramStatusType)]
_QuoteRightValue = Annotated[QuoteRight | int, _known_member(QuoteRight)]
_MarketStateValue = Annotated[MarketState | int, _known_member(MarketState)]


class ProgramStatus(_Model):
    """OpenD's own start-up and login state (``Common.ProgramStatus``)."""

    type: _ProgramStatusValue
    """Where OpenD stands (``type``); an ``int`` if this version does not know it."""
    description: str | None = None
    """OpenD's extra words on it (``strExtDesc``); ``None`` if absent."""

    @property
    def ready(self) -> bool:
        """Whether OpenD is logged in and serving (``type`` is ``READY``)."""
        return self.type is ProgramStatusType.READY

    @property
    def summary(self) -> str:
        """What it means, in words, e.g. ``"OpenD needs a phone verification code
        (program status NEED_PHONE_VERIFY_CODE)"``, with OpenD's description if any."""
        kind = self.type
        text = (
            PROGRAM_STATUS_TEXTS[kind]
            if isinstance(kind, ProgramStatusType)
            else "OpenD reports a status unknown to asyncquote"
        )
        label = kind.name if isinstance(kind, ProgramStatusType) else str(kind)
        detail = f": {self.description}" if self.description else ""
        return f"{text} (program status {label}{detail})"


class QuoteRights(_Model):
    """Quote entitlements per market (``Notify.QotRight``).

    Each value is a :class:`QuoteRight` (an ``int`` if unknown to this
    version); optional ones are ``None`` when OpenD did not send them.
    """

    hk: _QuoteRightValue
    """Hong Kong securities (``hkQotRight``)."""
    us: _QuoteRightValue
    """US securities (``usQotRight``)."""
    cn: _QuoteRightValue
    """China A-shares (``cnQotRight``)."""
    hk_option: _QuoteRightValue | None = None
    """Hong Kong options (``hkOptionQotRight``)."""
    has_us_option: bool | None = None
    """Whether US options are entitled at all (``hasUSOptionQotRight``)."""
    hk_future: _QuoteRightValue | None = None
    """Hong Kong futures (``hkFutureQotRight``)."""
    us_future: _QuoteRightValue | None = None
    """US futures (``usFutureQotRight``)."""
    us_option: _QuoteRightValue | None = None
    """US options (``usOptionQotRight``)."""
    us_index: _QuoteRightValue | None = None
    """US indexes (``usIndexQotRight``)."""
    us_otc: _QuoteRightValue | None = None
    """US OTC securities (``usOtcQotRight``)."""
    sg_future: _QuoteRightValue | None = None
    """Singapore futures (``sgFutureQotRight``)."""
    jp_future: _QuoteRightValue | None = None
    """Japan futures (``jpFutureQotRight``)."""
    us_cme_future: _QuoteRightValue | None = None
    """CME futures (``usCMEFutureQotRight``)."""
    us_cbot_future: _QuoteRightValue | None = None
    """CBOT futures (``usCBOTFutureQotRight``)."""
    us_nymex_future: _QuoteRightValue | None = None
    """NYMEX futures (``usNYMEXFutureQotRight``)."""
    us_comex_future: _QuoteRightValue | None = None
    """COMEX futures (``usCOMEXFutureQotRight``)."""
    us_cboe_future: _QuoteRightValue | None = None
    """CBOE futures (``usCBOEFutureQotRight``)."""
    sh: _QuoteRightValue | None = None
    """Shanghai securities (``shQotRight``)."""
    sz: _QuoteRightValue | None = None
    """Shenzhen securities (``szQotRight``)."""
    cc: _QuoteRightValue | None = None
    """Crypto (``ccQotRight``)."""
    sg_stock: _QuoteRightValue | None = None
    """Singapore stocks (``sgStockQotRight``)."""
    my_stock: _QuoteRightValue | None = None
    """Malaysia stocks (``myStockQotRight``)."""
    jp_stock: _QuoteRightValue | None = None
    """Japan stocks (``jpStockQotRight``)."""
    ec: _QuoteRightValue | None = None
    """Event contracts (``ecQotRight``)."""


class GlobalState(_Model):
    """What GetGlobalState (1002) reports: market sessions, logins, versions."""

    market_hk: _MarketStateValue
    """Hong Kong market session (``marketHK``)."""
    market_us: _MarketStateValue
    """US market session (``marketUS``)."""
    market_sh: _MarketStateValue
    """Shanghai market session (``marketSH``)."""
    market_sz: _MarketStateValue
    """Shenzhen market session (``marketSZ``)."""
    market_hk_future: _MarketStateValue
    """Hong Kong futures session (``marketHKFuture``)."""
    market_us_future: _MarketStateValue | None = None
    """US futures session (``marketUSFuture``)."""
    market_sg_future: _MarketStateValue | None = None
    """Singapore futures session (``marketSGFuture``)."""
    market_jp_future: _MarketStateValue | None = None
    """Japan futures session (``marketJPFuture``)."""
    market_sg: _MarketStateValue | None = None
    """Singapore market session (``marketSG``)."""
    market_my: _MarketStateValue | None = None
    """Malaysia market session (``marketMY``)."""
    market_jp: _MarketStateValue | None = None
    """Japan market session (``marketJP``)."""
    quote_logged_in: bool
    """OpenD is logged in to the quote server (``qotLogined``)."""
    trade_logged_in: bool
    """OpenD is logged in to the trade server (``trdLogined``)."""
    server_version: int
    """OpenD's version, e.g. ``904`` for 9.4 (``serverVer``)."""
    server_build_no: int
    """OpenD's build number (``serverBuildNo``)."""
    server_time: int
    """The servers' time, Unix seconds (``time``)."""
    local_time: float | None = None
    """OpenD's machine's time, Unix seconds (``localTime``)."""
    program_status: ProgramStatus | None = None
    """OpenD's start-up and login state (``programStatus``)."""
    quote_server_address: str | None = None
    """The quote server OpenD uses (``qotSvrIpAddr``)."""
    trade_server_address: str | None = None
    """The trade server OpenD uses (``trdSvrIpAddr``)."""
    conn_id: int | None = None
    """This connection's id at OpenD (``connID``)."""


class GatewayStatus(_Model):
    """The latest the client knows about OpenD's health (``client.gateway``).

    Kept current from Notify pushes and refreshed with GetGlobalState after
    every (re)connect. ``None`` means nothing has been heard about it yet.
    """

    quote_logged_in: bool | None = None
    """OpenD is logged in to the quote server."""
    trade_logged_in: bool | None = None
    """OpenD is logged in to the trade server."""
    program_status: ProgramStatus | None = None
    """OpenD's start-up and login state."""
    quote_rights: QuoteRights | None = None
    """Quote entitlements, once OpenD has pushed them."""

    @property
    def known(self) -> bool:
        """Whether OpenD has said anything of its logins or program status (rights aside)."""
        return (
            self.quote_logged_in is not None
            or self.trade_logged_in is not None
            or self.program_status is not None
        )

    @property
    def ready(self) -> bool:
        """Logged in to quotes, and program status ``READY`` if OpenD reports one.

        ``programStatus`` is optional in OpenD's answers and older versions
        leave it out; without it, being logged in to quotes is all OpenD
        says, so that is what decides.
        """
        return self.quote_logged_in is True and (
            self.program_status is None or self.program_status.ready
        )

    @property
    def reports_trouble(self) -> bool:
        """OpenD said it is not logged in to quotes, or its program status is not ``READY``.

        ``False`` while nothing is known (see :attr:`summary`).
        """
        return self.quote_logged_in is False or (
            self.program_status is not None and not self.program_status.ready
        )

    @property
    def summary(self) -> str:
        """What OpenD reports, in words, e.g. ``"OpenD needs a phone verification
        code (program status NEED_PHONE_VERIFY_CODE); not logged in to the quote
        server"``."""
        parts = [] if self.program_status is None else [self.program_status.summary]
        if self.quote_logged_in is not None:
            parts.append(
                "logged in to the quote server"
                if self.quote_logged_in
                else "not logged in to the quote server"
            )
        if not parts:
            return (
                "OpenD's state is not known (no GetGlobalState answer or Notify push "
                "since the client connected)"
            )
        return "; ".join(parts)
