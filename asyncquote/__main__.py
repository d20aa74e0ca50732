"""``python -m asyncquote``: see :mod:`asyncquote._cli`."""

from ._cli import main

raise SystemExit(main())
