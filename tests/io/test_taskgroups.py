"""``single_errors``: a lone exception from a task group escapes unwrapped, more stay grouped."""

from __future__ import annotations

import sys

import anyio
import pytest

from asyncquote._io.taskgroups import single_errors

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend(every_event_loop: object) -> object:
    return every_event_loop


async def test_the_callers_lone_exception_escapes_as_itself_with_its_cause() -> None:
    cause = OSError("underneath")
    with pytest.raises(KeyError) as caught:
        async with single_errors(), anyio.create_task_group():
            raise KeyError("mine") from cause
    assert caught.value.__cause__ is cause


async def test_two_exceptions_stay_a_group() -> None:
    async def fail(exc: Exception) -> None:
        raise exc  # before any checkpoint: a cancelled task still gets this far

    async def two_failures() -> None:
        async with single_errors(), anyio.create_task_group() as group:
            group.start_soon(fail, KeyError("one"))
            group.start_soon(fail, ValueError("two"))

    with pytest.raises(ExceptionGroup) as caught:
        await two_failures()
    assert sorted(type(exc).__name__ for exc in caught.value.exceptions) == [
        "KeyError",
        "ValueError",
    ]
