"""Model values the unit tests share: one security, and valid models built from it.

Each builder runs pydantic's validation (``model_validate``), so unknown enum
ints are kept as ints as they would be from the wire; a test passes only the
fields it is about.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from asyncquote._models.watchlist import (
    Market,
    OptionStaticExData,
    OptionType,
    Security,
    SecurityStaticBasic,
    SecurityType,
)

HK_00700 = Security(market=Market.HK, code="00700")


def _security(value: Security | str) -> Security:
    return Security.parse(value) if isinstance(value, str) else value


def basic(
    security: Security | str = HK_00700,
    sec_type: SecurityType | int = SecurityType.STOCK,
    **changes: object,
) -> SecurityStaticBasic:
    """A watchlist entry's basic data: Tencent's unless changed."""
    fields: dict[str, object] = {
        "security": _security(security),
        "id": 54047868453564,
        "lot_size": 100,
        "sec_type": sec_type,
        "name": "Tencent",
        "list_time": "2004-06-16",
    }
    return SecurityStaticBasic.model_validate({**fields, **changes})


def option_ex_data(
    type: OptionType | int, owner: Security | str = HK_00700, **changes: object
) -> OptionStaticExData:
    """An option's extra data: a call on Tencent unless changed."""
    fields: dict[str, object] = {
        "type": type,
        "owner": _security(owner),
        "strike_time": "2026-03-30",
        "strike_price": 400.0,
        "suspend": False,
        "market": "HK",
    }
    return OptionStaticExData.model_validate({**fields, **changes})


def assert_like_validated(model: BaseModel) -> None:
    """``model`` cannot be told apart from the same data run through validation."""
    validated = type(model).model_validate(model.model_dump())
    assert model == validated
    assert validated == model
    assert hash(model) == hash(validated)
    assert repr(model) == repr(validated)
    assert model.model_fields_set == validated.model_fields_set
    assert model.model_dump_json() == validated.model_dump_json()
    assert list(vars(model)) == list(type(model).model_fields)
    for field in type(model).model_fields:
        value = getattr(model, field)
        assert type(value) is type(getattr(validated, field)), field
        nested = value if isinstance(value, tuple) else (value,)
        for item in nested:
            if isinstance(item, BaseModel):
                assert_like_validated(item)
    field = next(iter(type(model).model_fields))
    with pytest.raises(ValidationError, match="frozen"):
        setattr(model, field, getattr(model, field))
