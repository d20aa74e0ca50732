"""Checks that a model built on the trusted path is one validation would build."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError


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
