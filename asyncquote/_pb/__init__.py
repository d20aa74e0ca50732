"""Protobuf modules generated from ``protos/`` by ``protos/generate.py``. Do not edit."""
