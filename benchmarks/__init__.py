"""Benchmarks for asyncquote. Each module runs with ``python -m benchmarks.<name>``.

Every figure is reported as a ratio to a baseline measured in the same run,
never as an absolute pass/fail time: see ``benchmarks/README.md``.
"""
