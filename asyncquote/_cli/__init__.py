"""The command line: ``asyncquote ...`` and ``python -m asyncquote ...`` (see main.py)."""

# start first: it makes a Ctrl-C during the imports below end quietly.
from . import start  # noqa: F401  (imported for that effect)
from .main import main

__all__ = ["main"]
