#!/usr/bin/env python3
"""Benchmark: `stackbox serve` cold start to all-healthy, and the RSS of every process.

Prints numbers and asserts nothing. Goals (issue 2): cold start < 3 s, total RSS < 400 MB.
Runs on free loopback ports in a temporary data dir.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.processes import descendants  # noqa: E402
from tests.fixtures.undercloud import start  # noqa: E402


def memory_kb(pid: int, field: str) -> int:
    path = f"/proc/{pid}/smaps_rollup" if field == "Pss:" else f"/proc/{pid}/status"
    try:
        with open(path) as stream:
            for line in stream:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(data_dir: Path) -> tuple[float, int, int, int]:
    started = time.monotonic()
    undercloud = start(data_dir)
    elapsed = time.monotonic() - started
    time.sleep(1.0)  # let workers finish starting before reading memory
    pids = [undercloud.process.pid, *descendants(undercloud.process.pid)]
    rss = sum(memory_kb(pid, "VmRSS:") for pid in pids)
    pss = sum(memory_kb(pid, "Pss:") for pid in pids)
    undercloud.stop()
    return elapsed, rss, pss, len(pids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stackbox-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        first, rss, pss, count = measure(data_dir)
        restarts = sorted(measure(data_dir)[0] for _ in range(args.runs))
    print("stackbox serve, all 9 services, 2 API workers")
    print(f"  first start (secrets, schema, bootstrap) to all-healthy: {first:.2f} s")
    print(f"  cold start to all-healthy, median of {args.runs}:           "
          f"{restarts[len(restarts) // 2]:.2f} s   (goal < 3 s)")
    print(f"  processes: {count}")
    print(f"  total RSS: {rss / 1024:.0f} MB   (goal < 400 MB)")
    print(f"  total PSS: {pss / 1024:.0f} MB   (shared pages counted once)")


if __name__ == "__main__":
    main()
