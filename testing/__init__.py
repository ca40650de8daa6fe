"""Test doubles shared by the tests and the benchmarks (`python -m bench`); not shipped."""
