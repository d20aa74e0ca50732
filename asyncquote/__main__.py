"""``python -m asyncquote``: see :mod:`asyncquote.cli`."""

from .cli import main

raise SystemExit(main())
