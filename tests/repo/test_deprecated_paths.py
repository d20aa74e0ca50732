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
from asyncquote._base import deprecated as _deprecated
from asyncquote._base.deprecated import FOLDERS, MOVED

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


# Names an old module used for another thing than the root's name of the same
# spelling, added since: the connection session of 0.1's ``asyncquote.session``
# (and of ``asyncquote._session``) is not the US trading session
# ``asyncquote.Session`` (the official SDK's name for it).
NOT_THE_PUBLIC_NAME = {("asyncquote._session", "Session"), ("asyncquote.session", "Session")}


@pytest.mark.parametrize("old", OLD_PATHS)
def test_old_names_are_the_public_objects(old: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module(old)
    # The simulator's old modules answer to asyncquote.sim, the rest to asyncquote.
    home = asyncquote.sim if old.startswith("asyncquote.sim.") else asyncquote
    for name in getattr(module, "__all__", ()):
        if name in home.__all__ and (old, name) not in NOT_THE_PUBLIC_NAME:
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


# The flat private modules whose name is a folder now (asyncquote._opend, ...):
# the folder answers the old module's names, warning once per name.
FOLDER_NAMES = sorted(
    (folder, name)
    for folder, home in FOLDERS.items()
    for name in importlib.import_module(home).__all__
)


@pytest.mark.parametrize(("folder", "name"), FOLDER_NAMES)
def test_a_folder_answers_the_names_of_the_flat_module_it_replaced(
    monkeypatch: pytest.MonkeyPatch, folder: str, name: str
) -> None:
    package = importlib.import_module(folder)
    if name in vars(package):  # answered by an earlier test: forget it (restored after)
        monkeypatch.delattr(package, name)
    home = importlib.import_module(FOLDERS[folder])
    with pytest.warns(DeprecationWarning, match=rf"^{folder}\.{name} is deprecated") as caught:
        value = getattr(package, name)
    assert len(caught) == 1
    assert str(FOLDERS[folder]) in str(caught[0].message)
    assert caught[0].filename == __file__  # blamed on the code that asked
    assert value is getattr(home, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert getattr(package, name) is value  # once: no second warning
    monkeypatch.delattr(package, name)


def test_from_a_folder_import_a_name_of_its_flat_module(monkeypatch: pytest.MonkeyPatch) -> None:
    package = importlib.import_module("asyncquote._client")
    if "QuoteClient" in vars(package):
        monkeypatch.delattr(package, "QuoteClient")
    with pytest.warns(
        DeprecationWarning, match="import QuoteClient from asyncquote._client.client"
    ):
        from asyncquote._client import QuoteClient
    assert QuoteClient is asyncquote.QuoteClient
    monkeypatch.delattr(package, "QuoteClient")


def test_a_folder_still_imports_its_submodules_and_refuses_other_names() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from asyncquote._opend import framing

        assert framing.__name__ == "asyncquote._opend.framing"
    package = importlib.import_module("asyncquote._models")
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        package.nonexistent  # noqa: B018
    # A submodule's name is not one of the old module's: not answered from it.
    with pytest.raises(AttributeError):
        _deprecated.folder_attribute("asyncquote._opend", "protocol")


def test_every_moved_flat_module_is_an_old_path_or_a_folder() -> None:
    # Every private module that sat flat in asyncquote/ before the folders.
    flat = {old for old in MOVED if old.startswith("asyncquote._")} | set(FOLDERS)
    assert len(flat) == 48  # the 49 moved modules; _cli is a folder that exports main
    for old in flat:
        assert old.count(".") == 1, old
