"""`python -m bench [--only NAME …] [--units N] [--repeats N] [--out FILE]`, or
`python -m bench synth --db URL [--units N] [--weeks N] …` to fill a database with synthetic
units and reports (for trying the bot at national scale).

Run from the repository root: bench is not an installed package, and it imports the fake
Telegram Bot API server from the repository's `testing` package.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import burst, chart, digest, telegram  # noqa: F401  (they register their figures)
from bench.context import BASE_CONFIG, BenchContext
from bench.figures import REGISTRY
from bench.registry import table, write_json


def synth_main(argv: Sequence[str]) -> int:
    from bench.synth import synthesize
    from core.periods import Period
    from storage import Database

    parser = argparse.ArgumentParser(
        prog="python -m bench synth", description="synthetic units and weekly reports"
    )
    parser.add_argument("--units", type=int, default=3321, help="number of communes")
    parser.add_argument("--weeks", type=int, default=52, help="weeks of reports")
    parser.add_argument(
        "--config", type=Path, default=BASE_CONFIG, help="base set-up (fields, indicators)"
    )
    parser.add_argument("--db", required=True, help="database URL to fill")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--last", default="2024-W47", help="the last period with reports")
    parser.add_argument("--out-config", type=Path, default=Path("out/synth.toml"))
    parser.add_argument("--timezone", default="Asia/Ho_Chi_Minh")
    args = parser.parse_args(argv)
    if args.units < 1 or args.weeks < 1:
        print("Lỗi: --units và --weeks phải lớn hơn 0", file=sys.stderr)
        return 2

    async def fill() -> None:
        db = await Database.open(args.db)
        try:
            result = await synthesize(
                db,
                args.config,
                args.out_config,
                args.units,
                args.weeks,
                args.seed,
                Period.parse(args.last),
                args.timezone,
            )
        finally:
            await db.close()
        print(
            f"{result.config_path}: {len(result.catalogue.units)} units; {result.reports} reports"
        )

    asyncio.run(fill())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["synth"]:
        return synth_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="*", default=[], help="figure names (default: all)")
    parser.add_argument("--units", type=int, default=3321, help="national scale")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("out/bench.json"))
    parser.add_argument("--list", action="store_true", help="list the figures and stop")
    parser.epilog = "python -m bench synth --help: fill a database with synthetic data"
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
