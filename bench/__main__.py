"""python -m bench [BENCH ...] [--sqlite-only] [--quick]
BENCH: latency, reads, scheduler, fanout, migration, trackers, tokens, export, soak, simulate (default: all)

Runs each benchmark on SQLite and, when BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a
PostgreSQL database to create scratch databases next to, on PostgreSQL too. Every figure is a ratio
to a baseline measured in the same run, because the machine is shared and noisy."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from bench import export, fanout, latency, migration, reads, scheduler, simulate, soak, tokens, trackers
from bench.harness import HEADER, Table, postgres_url

BENCHES = {
    "latency": latency.run,
    "reads": reads.run,
    "scheduler": scheduler.run,
    "fanout": fanout.run,
    "migration": migration.run,
    "trackers": trackers.run,
    "tokens": tokens.run,
    "export": export.run,
    "soak": soak.run,
    "simulate": simulate.run,
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "benches", nargs="*", metavar="BENCH", help=f"some of: {', '.join(BENCHES)} (default: all)"
    )
    parser.add_argument("--sqlite-only", action="store_true", help="Skip PostgreSQL even if configured.")
    parser.add_argument("--quick", action="store_true", help="Fewer requests and smaller data (a smoke run).")
    args = parser.parse_args()
    unknown = [name for name in args.benches if name not in BENCHES]
    if unknown:
        parser.error(f"no bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    args.benches = args.benches or list(BENCHES)
    logging.basicConfig(level=logging.ERROR)
    kinds = ["sqlite"] + ([] if args.sqlite_only or not postgres_url() else ["postgres"])
    table = Table()
    print(HEADER)
    started = time.monotonic()
    for name in args.benches:
        for kind in kinds:
            BENCHES[name](table, kind, quick=args.quick)
    print(
        f"\n{len(table.rows)} figures in {time.monotonic() - started:.0f} s; "
        f"{len(table.failed)} missed their target"
        + ("" if postgres_url() else "; PostgreSQL skipped (set BENCH_DATABASE_URL)")
    )
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())
