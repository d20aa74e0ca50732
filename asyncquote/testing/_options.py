"""What a test can ask of its gateway, checked once: the ``opend`` marker's vocabulary.

One job: turn the keyword arguments a test gives (``@pytest.mark.opend(...)``,
a fixture parameter, or :meth:`OpenD.start`) into the arguments of a
:class:`~asyncquote.sim.Simulator` and of :func:`asyncquote.connect`, so the
client a test gets always agrees with its gateway (same quotas, same key).

Adding an option is adding a field here and passing it on in
:meth:`OpenDOptions.simulator_kwargs`; the marker, the parametrisation and
:meth:`OpenD.start` all read this one class.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._base.args import check_int
from .._opend.vocabulary import DEFAULT_QUOTAS, NO_QUOTAS, Quota, merge_quotas
from ..sim._faults import Faults
from ..sim._gateway import GatewayState
from ..sim._server_args import check_market_arguments
from ..sim._texts import Language
from ..sim._watchlists import WatchlistStore
from ._securities import watchlist_store

__all__ = ["FAST_QUOTAS", "OpenDOptions", "QuotaPreset", "scaled_quotas"]

QuotaPreset = Literal["opend", "fast", "off"]
"""Named quotas: OpenD's own, :data:`FAST_QUOTAS`, or none at all."""

#: How much faster :data:`FAST_QUOTAS` windows pass than OpenD's.
_FAST_FACTOR = 0.01


def scaled_quotas(factor: float) -> Mapping[int, Quota]:
    """OpenD's quotas with every window ``factor`` times as long, the same call counts.

    ``scaled_quotas(0.01)`` allows 10 requests per 0.3 s: a test meets the
    quota as a bot would, without waiting 30 seconds for it to pass.
    """
    return {
        proto_id: Quota(quota.max_calls, quota.period * factor)
        for proto_id, quota in DEFAULT_QUOTAS.items()
    }


#: OpenD's quotas scaled down for fast tests: 10 requests per 0.3 s for 3213,
#: 3214 and 3222 (OpenD: per 30 s).
FAST_QUOTAS: Mapping[int, Quota] = scaled_quotas(_FAST_FACTOR)

_PRESETS: Mapping[str, Mapping[int, Quota | None]] = {
    "opend": {},
    "fast": FAST_QUOTAS,
    "off": NO_QUOTAS,
}

RsaKey = str | os.PathLike[str] | bytes


@functools.cache
def generated_rsa_key() -> bytes:
    """A 1024-bit PKCS#1 RSA key (PEM), made once per process: what ``rsa_key=True`` uses.

    1024 bits because the official SDK reads no other size.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class OpenDOptions:
    """How the simulated gateway of one test behaves; every field is optional.

    Attributes:
        watchlists: ``{group name: [code, ...]}`` (see
            :func:`~asyncquote.testing.watchlist_store`), a ready
            :class:`~asyncquote.sim.WatchlistStore`, or ``None`` for the
            bundled sample watchlists.
        quotas: ``"opend"`` (OpenD's 10 per 30 s, the default), ``"fast"``
            (:data:`FAST_QUOTAS`), ``"off"``, or overrides by protocol id as
            for :class:`~asyncquote.sim.Simulator`. The client of
            ``opend_client`` is given the same quotas.
        faults: a :class:`~asyncquote.sim.Faults`, or its fields as a dict
            (``{"reply_delay": 0.05}``).
        rsa_key: encrypt connections with this RSA private key (PEM or DER
            bytes, PEM text, or a file's path), or ``True`` for a key made up
            for the test run; ``opend_client`` uses the same key. Needs the
            ``crypto`` extra.
        language: ``"en"`` or ``"zh"``: the language of OpenD's refusals.
        keepalive_interval: seconds, told to clients in the InitConnect reply.
        gateway: what OpenD says about itself: a status name from
            :data:`~asyncquote.sim.GATEWAY_STATUSES` (``"logged-out"``,
            ``"need-phone-code"`` ...) or a whole
            :class:`~asyncquote.sim.GatewayState`; ``None`` is a healthy,
            logged-in gateway. Anything but ready refuses watchlist calls
            as OpenD does when logged out.
        quote_rate: how many times a second every security's price moves by
            itself; ``0`` (the default here) moves prices only through
            ``opend.market.set_price``, so a test sees exactly its own moves.
        market_seed: the seed every starting price and move comes from.
        subscription_quota: the account's subscription quota; ``None`` is
            the simulator's (1,000).
        clock_start: the moment the simulator's clock starts at, as epoch
            seconds or an aware datetime (``None``: now); pin it when what a
            test checks depends on the time of day (US pre-market trades,
            say), so the test means the same at any hour CI runs it.
    """

    watchlists: Mapping[str, Sequence[str]] | WatchlistStore | None = None
    quotas: QuotaPreset | Mapping[int, Quota | None] = "opend"
    faults: Faults | Mapping[str, Any] | None = None
    rsa_key: RsaKey | bool | None = None
    language: Language = "en"
    keepalive_interval: int = 10
    gateway: GatewayState | str | None = None
    quote_rate: float = 0.0
    market_seed: int = 0
    subscription_quota: int | None = None
    clock_start: float | datetime.datetime | None = None

    @classmethod
    def from_kwargs(cls, where: str, kwargs: Mapping[str, Any]) -> OpenDOptions:
        """Options from keyword arguments; a :class:`ValueError` names ``where`` they came from."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValueError(
                f"{where}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        options = cls(**kwargs)
        options.simulator_kwargs()  # check everything now, where the test names it
        return options

    def merged(self, where: str, kwargs: Mapping[str, Any]) -> OpenDOptions:
        """These options with ``kwargs`` replacing the fields they name."""
        return OpenDOptions.from_kwargs(where, {**self._given(), **kwargs})

    def _given(self) -> dict[str, Any]:
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) != field.default
        }

    def quota_overrides(self) -> Mapping[int, Quota | None]:
        """:attr:`quotas` as overrides of OpenD's, for the simulator and the client alike.

        Raises:
            ValueError: an unknown preset, or overrides that are not valid.
        """
        quotas = self.quotas
        if isinstance(quotas, str):
            if quotas not in _PRESETS:
                raise ValueError(
                    f"quotas must be one of {', '.join(map(repr, _PRESETS))} "
                    f"or a mapping, not {quotas!r}"
                )
            return _PRESETS[quotas]
        merge_quotas(quotas)  # raises for bad overrides
        return quotas

    def key(self) -> RsaKey | None:
        """The RSA key to encrypt with, or ``None``."""
        if self.rsa_key is True:
            return generated_rsa_key()
        if self.rsa_key is False:
            return None
        return self.rsa_key

    def simulator_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~asyncquote.sim.Simulator`.

        Raises:
            ValueError, TypeError: an option is not valid.
        """
        watchlists = self.watchlists
        store = (
            watchlists
            if watchlists is None or isinstance(watchlists, WatchlistStore)
            else watchlist_store(watchlists)
        )
        faults = self.faults
        if isinstance(faults, Mapping):
            faults = Faults(**faults)
        elif faults is not None and not isinstance(faults, Faults):
            raise TypeError(f"faults must be a Faults or a dict of its fields, not {faults!r}")
        gateway = self.gateway
        if isinstance(gateway, str):
            gateway = GatewayState.in_status(gateway)
        elif gateway is not None and not isinstance(gateway, GatewayState):
            raise TypeError(f"gateway must be a status name or a GatewayState, not {gateway!r}")
        check_market_arguments(
            quote_rate=self.quote_rate, market_seed=self.market_seed, clock_start=self.clock_start
        )
        if self.subscription_quota is not None:
            check_int("subscription_quota", self.subscription_quota, minimum=0)
        return {
            "gateway": gateway,
            "watchlists": store,
            "quotas": self.quota_overrides(),
            "faults": faults,
            "rsa_key": self.key(),
            "language": self.language,
            "keepalive_interval": self.keepalive_interval,
            "quote_rate": self.quote_rate,
            "market_seed": self.market_seed,
            "subscription_quota": self.subscription_quota,
            "clock_start": self.clock_start,
        }

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`asyncquote.connect` that match this gateway."""
        return {"quotas": self.quota_overrides(), "rsa_key": self.key()}
