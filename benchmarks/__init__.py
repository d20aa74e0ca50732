"""Benchmarks for asyncquote: ``python -m benchmarks`` runs the suite (``suite.py``);
other modules run on their own with ``python -m benchmarks.<name>``.

Every figure is reported as a ratio to a baseline measured in the same run,
never as an absolute pass/fail time: see ``benchmarks/README.md``.
"""
