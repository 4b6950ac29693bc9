"""Bus benchmark: call round trip and cast throughput on loopback.

Starts a broker (``python -m undercloud.bus.broker``) and an RpcServer in this
process, then prints call p50/p99 and casts per second. Goal: call p50 < 1 ms.

    .venv/bin/python bench/bus.py [--calls 5000] [--casts 20000] [--curve]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.ports import free_port  # noqa: E402
from undercloud.bus import BusError, RpcClient, RpcServer, remote  # noqa: E402
from undercloud.common import config  # noqa: E402

WARM_UP_CALLS = 500
DEADLINE_SECONDS = 60  # the whole run gives up after this


class Echo:
    def __init__(self):
        self.casts = 0
        self._lock = threading.Lock()

    @remote
    def echo(self, **kwargs):
        return kwargs

    @remote
    def bump(self):
        with self._lock:
            self.casts += 1

    @remote
    def count(self):
        return self.casts


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--casts", type=int, default=20000)
    parser.add_argument("--curve", action="store_true", help="authenticate with CurveZMQ")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="stackbox-bench-bus-")
    cfg = config.load(environ={}, overrides={"data_dir": data_dir})
    cfg["bus"]["port"] = free_port()
    cfg["bus"]["curve"] = args.curve
    config_file = os.path.join(data_dir, "stackbox.json")
    with open(config_file, "w") as handle:
        handle.write(cfg.to_json())

    broker = subprocess.Popen([sys.executable, "-m", "undercloud.bus.broker",
                               "--config-json", config_file], stderr=subprocess.DEVNULL)
    endpoint = Echo()
    server = RpcServer(cfg, "bench", endpoint, "bench-server").start()
    client = RpcClient(cfg)
    try:
        if not server.wait_registered(10):
            sys.exit("the broker did not come up within 10 s")
        payload = {"instance_id": "9b1c3e0e-5a7b-4a8e-9f5d-2d1f0c6b7a11", "flavor": "m1.small"}

        for _ in range(WARM_UP_CALLS):
            client.call("bench", "echo", **payload)
        timings = []
        for _ in range(args.calls):
            started = time.perf_counter_ns()
            client.call("bench", "echo", **payload)
            timings.append(time.perf_counter_ns() - started)
        timings.sort()
        print(f"bus: {'CurveZMQ' if args.curve else 'plain'} on {cfg.bus_url}, "
              f"broker in its own process, {os.cpu_count()} CPUs")
        print(f"call round trip over {args.calls} calls: "
              f"p50 {percentile(timings, 0.50) / 1e6:.3f} ms, "
              f"p99 {percentile(timings, 0.99) / 1e6:.3f} ms, "
              f"mean {sum(timings) / len(timings) / 1e6:.3f} ms")

        started = time.perf_counter()
        for _ in range(args.casts):
            client.cast("bench", "bump")
        sent = time.perf_counter()
        deadline = time.monotonic() + DEADLINE_SECONDS
        while client.call("bench", "count") < args.casts:  # confirms every cast arrived
            if time.monotonic() > deadline:
                sys.exit(f"only {endpoint.casts} of {args.casts} casts arrived")
        arrived = time.perf_counter()
        print(f"cast throughput over {args.casts} casts: "
              f"{args.casts / (arrived - started):,.0f} msgs/s delivered "
              f"(sending took {sent - started:.2f} s)")
    except BusError as exc:
        sys.exit(f"benchmark failed: {exc}")
    finally:
        client.close()
        server.stop()
        broker.terminate()
        broker.wait(10)


if __name__ == "__main__":
    main()
