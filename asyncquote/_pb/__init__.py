"""Protobuf modules generated from ``protos/`` by ``protos/generate.py``.

Do not edit: run ``python protos/generate.py`` instead.
"""
