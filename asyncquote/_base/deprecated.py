"""Old module paths kept importable for one release, each with a DeprecationWarning.

In 0.1 every module of the package was public (``asyncquote.client``,
``asyncquote.groups``, ...). They are private now (``asyncquote._client.client``)
and the public API is what ``asyncquote`` and ``asyncquote.sim`` export. So
that code written against the old paths keeps working for one release,
:data:`MOVED` maps each old module name to the module that now holds its
code, and a finder on :data:`sys.meta_path` answers an import of an old name
with that very module (``sys.modules`` ends up holding the same object under
both names, so every class, function and monkeypatch is shared), warning
once per old name and process. ``asyncquote.<old name>`` attribute access
goes through the package's ``__getattr__``, i.e. through the same import.

The package never imports the old names itself, so ``python -W
error::DeprecationWarning -c "import asyncquote"`` stays clean. To retire a
path, drop its entry; to move another one (``asyncquote.sim.*`` included),
add one.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

__all__ = ["FOLDERS", "MOVED", "attribute", "folder_attribute", "install", "warning_text"]

#: The flat private modules before issue 22 -> their home in the folders by
#: layer. Private, but code that reached into them keeps working for a release.
#: Four old names are folders now (see :data:`FOLDERS`), so they are not here.
_FLAT: dict[str, str] = {
    "_aes": "_opend.aes",
    "_args": "_base.args",
    "_broadcast": "_io.broadcast",
    "_cipher": "_opend.cipher",
    "_cli_commands": "_cli.commands",
    "_cli_gateway": "_cli.gateway",
    "_cli_parser": "_cli.parser",
    "_cli_start": "_cli.start",
    "_cli_types": "_cli.types",
    "_client_core": "_client.core",
    "_client_gateway": "_client.gateway_client",
    "_codec": "_opend.codec",
    "_connect": "_client.connect",
    "_connection": "_io.connection",
    "_connection_options": "_io.connection_options",
    "_convert": "_models.convert",
    "_crypto": "_opend.crypto",
    "_dataframes": "_models.dataframes",
    "_deprecated": "_base.deprecated",
    "_entry_cache": "_client.entry_cache",
    "_errors": "_base.errors",
    "_events": "_models.events",
    "_framing": "_opend.framing",
    "_gateway": "_client.monitor",
    "_groups": "_models.groups",
    "_handshake": "_opend.handshake",
    "_health": "_models.health",
    "_install": "_base.install",
    "_loop": "_io.loop",
    "_loss": "_opend.loss",
    "_notify": "_models.notify",
    "_opend_health": "_opend.health_vocabulary",
    "_options": "_client.options",
    "_protocol": "_opend.protocol",
    "_ratelimit": "_client.ratelimit",
    "_rsa": "_opend.rsa",
    "_session": "_io.session",
    "_singleflight": "_client.singleflight",
    "_states": "_base.states",
    "_table": "_cli.table",
    "_taskgroups": "_io.taskgroups",
    "_text": "_base.text",
    "_version": "_base.version",
    "_watch": "_client.watch",
    "_wire": "_io.wire",
}

#: Old flat private modules whose name is now a folder's: the folder answers
#: their names (:func:`folder_attribute`) from the module now holding them.
FOLDERS: dict[str, str] = {
    "asyncquote._client": "asyncquote._client.client",
    "asyncquote._models": "asyncquote._models.watchlist",
    "asyncquote._opend": "asyncquote._opend.vocabulary",
}

#: Old module name (public in 0.1, or flat private) -> the module that holds its code now.
MOVED: dict[str, str] = {
    "asyncquote.cli": "asyncquote._cli.main",
    "asyncquote.client": "asyncquote._client.connect",  # connect() and the old names
    "asyncquote.codec": "asyncquote._opend.codec",
    "asyncquote.connection": "asyncquote._io.connection",
    "asyncquote.convert": "asyncquote._models.convert",
    "asyncquote.crypto": "asyncquote._opend.crypto",
    "asyncquote.entry_cache": "asyncquote._client.entry_cache",
    "asyncquote.errors": "asyncquote._base.errors",
    "asyncquote.frames": "asyncquote._models.dataframes",
    "asyncquote.framing": "asyncquote._opend.framing",
    "asyncquote.groups": "asyncquote._models.groups",
    "asyncquote.models": "asyncquote._models.watchlist",
    "asyncquote.ratelimit": "asyncquote._client.ratelimit",
    "asyncquote.session": "asyncquote._io.session",
    "asyncquote.singleflight": "asyncquote._client.singleflight",
    "asyncquote.table": "asyncquote._cli.table",
    "asyncquote.watch": "asyncquote._client.watch",
    # The simulator's modules; its public API is what asyncquote.sim exports.
    # serve() has a module of its own, which offers the old module's names.
    "asyncquote.sim.server": "asyncquote.sim._serve",
    **{
        f"asyncquote.sim.{name}": f"asyncquote.sim._{name}"
        for name in (
            "dispatch",
            "faults",
            "handlers",
            "persistence",
            "quotas",
            "state",
            "texts",
            "watchlists",
        )
    },
    # The flat private modules (asyncquote._wire, ...), moved into folders.
    **{f"asyncquote.{old}": f"asyncquote.{new}" for old, new in _FLAT.items()},
}


def _public_home(old: str) -> str:
    """The package whose ``__all__`` replaces ``old``: ``asyncquote.sim`` for its modules."""
    return "asyncquote.sim" if old.startswith("asyncquote.sim.") else "asyncquote"


def warning_text(old: str, module: ModuleType) -> str:
    """What an import of ``old`` warns: the public names to import instead, if any."""
    home = _public_home(old)
    package = sys.modules[home]
    public = getattr(package, "__all__", ())
    # What the old module offered (its __all__), not everything it imports.
    offered = getattr(module, "__all__", ())
    names = sorted(
        name
        for name in offered
        if name in public and getattr(module, name, None) is getattr(package, name, None)
    )
    if names:
        instead = f"import {', '.join(names)} from {home} instead (e.g. {home}.{names[0]})"
    else:
        instead = f"it has no public names; use what {home} exports"
    return (
        f"{old} is deprecated and will be removed in the next release: {instead}. "
        f"Its code now lives in the private module {module.__name__}."
    )


class _AliasLoader(importlib.abc.Loader):
    """Loads an old name as the module that now holds its code (the same object)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # a throwaway module, replaced in sys.modules by exec_module

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns whatever sys.modules holds once this
        # returns: the real module, not the throwaway one. Level 2 is the
        # importing code (warnings skips importlib's own frames).
        _alias(module.__name__, stacklevel=2)


def _alias(old: str, *, stacklevel: int) -> ModuleType:
    """Warn about ``old``, then make ``sys.modules[old]`` the module that replaced it."""
    target = importlib.import_module(MOVED[old])
    warnings.warn(warning_text(old, target), DeprecationWarning, stacklevel=stacklevel + 1)
    sys.modules[old] = target
    return target


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds the old names in :data:`MOVED`, and nothing else."""

    _loader = _AliasLoader()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self._loader)


_FINDER = _AliasFinder()


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once; before the path-based finders)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def attribute(package: str, name: str) -> ModuleType:
    """``package.name`` for an old module name (a package ``__getattr__``'s job).

    Raises:
        AttributeError: ``name`` is no old module of ``package``.
    """
    old = f"{package}.{name}"
    if old not in MOVED:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    module = sys.modules.get(old)
    if module is None:
        # Level 3: the code that wrote ``package.name`` (past __getattr__).
        module = _alias(old, stacklevel=3)
    setattr(sys.modules[package], name, module)  # as an import would
    return module


def folder_attribute(package: str, name: str) -> object:
    """``package.name`` for a name of the flat module ``package`` replaced (its ``__getattr__``).

    ``from asyncquote._opend import ProtoId`` worked while ``_opend`` was one
    module; it is a folder now, and this answers such a name from the module
    now holding it (:data:`FOLDERS`), with a DeprecationWarning, once: the
    name is then set on the folder. Only the old module's ``__all__`` is
    answered, so asking for a submodule not yet imported (what ``from
    package import submodule`` does first) is still an AttributeError.

    Raises:
        AttributeError: ``name`` is no name of the old module.
    """
    home = importlib.import_module(FOLDERS[package])
    if name not in getattr(home, "__all__", ()):
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    # Level 3: the code that wrote ``from package import name`` (past __getattr__).
    warnings.warn(
        f"{package}.{name} is deprecated and will be removed in the next release: "
        f"{package} is a folder now; import {name} from {home.__name__}.",
        DeprecationWarning,
        stacklevel=3,
    )
    value: object = getattr(home, name)
    setattr(sys.modules[package], name, value)
    return value
