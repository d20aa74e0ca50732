"""The module paths public in 0.1 (``asyncquote.client``, ...) still import, with a warning.

They are aliases for one release (``asyncquote._base.deprecated``): the very same
module objects as the private modules that now hold the code, so every class
and function is the same object as the one ``asyncquote`` exports.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

import asyncquote
import asyncquote.sim
from asyncquote._base.deprecated import MOVED

OLD_PATHS = sorted(MOVED)


def _forget(monkeypatch: pytest.MonkeyPatch, old: str) -> None:
    """Undo an earlier import of ``old`` in this process (restored after the test)."""
    monkeypatch.delitem(sys.modules, old, raising=False)
    package, _, leaf = old.rpartition(".")
    if leaf in vars(sys.modules[package]):  # not hasattr: that would import it
        monkeypatch.delattr(sys.modules[package], leaf)


@pytest.mark.parametrize("old", OLD_PATHS)
def test_old_path_imports_the_same_module_and_warns_once(
    monkeypatch: pytest.MonkeyPatch, old: str
) -> None:
    _forget(monkeypatch, old)
    with pytest.warns(DeprecationWarning, match=rf"^{old} is deprecated") as caught:
        module = importlib.import_module(old)
    assert len(caught) == 1
    assert module is importlib.import_module(MOVED[old])
    assert sys.modules[old] is module
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert importlib.import_module(old) is module  # once: no second warning


@pytest.mark.parametrize("old", OLD_PATHS)
def test_old_path_as_an_attribute_of_the_package(monkeypatch: pytest.MonkeyPatch, old: str) -> None:
    _forget(monkeypatch, old)
    package, _, leaf = old.rpartition(".")
    with pytest.warns(DeprecationWarning, match=rf"^{old} is deprecated"):
        module = getattr(sys.modules[package], leaf)
    assert module is importlib.import_module(MOVED[old])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert getattr(sys.modules[package], leaf) is module
        assert importlib.import_module(old) is module


@pytest.mark.parametrize("old", OLD_PATHS)
def test_old_names_are_the_public_objects(old: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module(old)
    # The simulator's old modules answer to asyncquote.sim, the rest to asyncquote.
    home = asyncquote.sim if old.startswith("asyncquote.sim.") else asyncquote
    for name in getattr(module, "__all__", ()):
        if name in home.__all__:
            assert getattr(module, name) is getattr(home, name), name


def test_warning_names_the_new_import(monkeypatch: pytest.MonkeyPatch) -> None:
    _forget(monkeypatch, "asyncquote.groups")
    with pytest.warns(DeprecationWarning, match="asyncquote.groups") as caught:
        from asyncquote.groups import GroupType
    assert GroupType is asyncquote.GroupType
    message = str(caught[0].message)
    assert "from asyncquote instead" in message
    assert "GroupType" in message
    assert "asyncquote._models.groups" in message
    assert caught[0].filename == __file__  # blamed on the importing code


def test_every_private_module_of_an_old_path_exists() -> None:
    for new in MOVED.values():
        assert any(part.startswith("_") for part in new.split(".")[1:]), new
        importlib.import_module(new)


def test_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        asyncquote.nonexistent  # type: ignore[attr-defined]  # noqa: B018


def test_the_package_never_uses_its_own_aliases() -> None:
    code = (
        "import asyncquote, asyncquote.sim, asyncquote.sim._server, asyncquote._cli.main, "
        "asyncquote._models.dataframes, asyncquote._cli.table"
    )
    subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        check=True,
        timeout=60,
    )
