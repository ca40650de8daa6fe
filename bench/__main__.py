"""`python -m bench [--only NAME …] [--units N] [--repeats N] [--out FILE]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import chart, digest, telegram  # noqa: F401  (they register their figures)
from bench.context import BenchContext
from bench.figures import REGISTRY
from bench.registry import table, write_json


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="*", default=[], help="figure names (default: all)")
    parser.add_argument("--units", type=int, default=3321, help="national scale")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("out/bench.json"))
    parser.add_argument("--list", action="store_true", help="list the figures and stop")
    args = parser.parse_args(argv)
    if args.list:
        for fig in REGISTRY.figures:
            print(fig.name)
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        ctx = BenchContext(Path(tmp), repeats=args.repeats, units=args.units, weeks=args.weeks)
        print(f"bench: {args.units} units, {args.weeks} weeks, {args.repeats} repeats", flush=True)
        results = asyncio.run(REGISTRY.run(ctx, args.only))
    write_json(results, args.out)
    print()
    print(table(results))
    print(f"\n{args.out} written in {time.perf_counter() - started:.0f} s")
    return 0 if all(r.value is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
