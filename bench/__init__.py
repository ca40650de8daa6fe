"""Benchmarks: `python -m bench` measures every figure and writes out/bench.json."""
