"""The package's version, in a module of its own.

Apart from ``asyncquote/__init__.py`` so that the modules that name it (the
install hint, ``asyncquote --version``) need not import the whole package,
which imports them.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
