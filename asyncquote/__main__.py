"""``python -m asyncquote``: see :mod:`asyncquote._cli.main`."""

from ._cli import main

raise SystemExit(main())
