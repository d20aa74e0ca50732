"""What an ImportError for a missing optional package tells the user to run.

asyncquote is not on a package index, so asking pip for ``"asyncquote[crypto]"``
by name cannot work; the hint gives the two forms docs/install.md gives (a checkout,
a built wheel), in one place so every hint says the same.
"""

from __future__ import annotations

from .version import __version__

__all__ = ["install_hint"]


def install_hint(extra: str) -> str:
    """How to install asyncquote's ``extra``: from a checkout, or from a built wheel."""
    return (
        f'install asyncquote\'s "{extra}" extra: pip install -e ".[{extra}]" in a checkout, '
        f'or pip install "dist/asyncquote-{__version__}-py3-none-any.whl[{extra}]" '
        "(see docs/install.md)"
    )
