#!/usr/bin/env python3
"""Benchmark: `stackbox serve` cold start to all-healthy, and the memory of every process.

Prints numbers and asserts nothing. Every built service on (the default), idle a few seconds
after start; RSS and PSS (shared pages split between their sharers) per process and summed.
Goals: cold start < 3 s; the whole appliance < 400 MB RSS and < 250 MB PSS.
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
from undercloud import services as registry  # noqa: E402


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


def process_name(pid: int) -> str:
    """serve, bus, api, managers, dnsmasq...: what the process is, from its command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            argv = [part.decode(errors="replace") for part in stream.read().split(b"\0")]
    except OSError:
        return "?"
    module = next((argv[i + 1] for i, part in enumerate(argv[:-1]) if part == "-m"), "")
    return {"undercloud.cmd.main": "serve (supervisor)", "undercloud.bus.broker": "bus",
            "undercloud.serve.api": "api", "undercloud.serve.manager": "managers"}.get(
        module, module or argv[0].rsplit("/", 1)[-1])


def measure(data_dir: Path, idle: float = 0.0):
    """(seconds to all-healthy, [(pid, name, rss kB, pss kB)] after `idle` seconds)."""
    started = time.monotonic()
    undercloud = start(data_dir)
    elapsed = time.monotonic() - started
    time.sleep(idle)
    pids = [undercloud.process.pid, *descendants(undercloud.process.pid)]
    rows = [(pid, process_name(pid), memory_kb(pid, "VmRSS:"), memory_kb(pid, "Pss:"))
            for pid in pids]
    undercloud.stop()
    return elapsed, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds to let every manager settle before reading memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stackbox-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        first, rows = measure(data_dir, args.idle)
        restarts = sorted(measure(data_dir)[0] for _ in range(args.runs))
    services = ", ".join(s.name for s in registry.enabled(registry.SERVICES))
    print(f"stackbox serve, every built service ({services}), default settings")
    print(f"  first start (secrets, schema, bootstrap) to all-healthy: {first:.2f} s")
    print(f"  cold start to all-healthy, median of {args.runs}:           "
          f"{restarts[len(restarts) // 2]:.2f} s   (goal < 3 s)")
    print(f"  memory {args.idle:.0f} s after the first start, per process:")
    for pid, name, rss, pss in sorted(rows, key=lambda row: -row[2]):
        print(f"    {name:<20} pid {pid:<8} RSS {rss / 1024:6.1f} MB   PSS {pss / 1024:6.1f} MB")
    rss, pss = sum(row[2] for row in rows), sum(row[3] for row in rows)
    print(f"  {len(rows)} processes: total RSS {rss / 1024:.0f} MB (goal < 400 MB), "
          f"total PSS {pss / 1024:.0f} MB (goal < 250 MB)")


if __name__ == "__main__":
    main()
