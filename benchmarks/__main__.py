"""``python -m benchmarks``: the throughput, decoding and memory suite (see ``suite.py``)."""

from __future__ import annotations

import sys

from .suite import main

sys.exit(main())
