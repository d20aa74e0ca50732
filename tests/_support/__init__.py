"""Helpers the tests share: one of each, imported by the test modules that use them."""
