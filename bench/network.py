#!/usr/bin/env python3
"""Benchmark: the network service. Prints numbers, asserts nothing.

  port-create     POST /v2.0/ports with IP allocation from 4 concurrent clients (threads, one
                  connection each) on one subnet: ports/s and latency p50/p90; every address
                  is checked to be unique
  port-to-lease   (root) from POST /v2.0/ports (bound to this host, as compute binds a guest's)
                  to the DHCP lease inside a guest: a namespace plugged into the network's
                  bridge on the port's tap, running busybox udhcpc; median of --leases
  networks        (root) build --networks networks, each with a subnet and a router with an
                  interface on it, until the data plane shows every router and DHCP namespace;
                  then delete them all until nothing is left
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.compute import Api  # noqa: E402
from tests.fixtures.undercloud import start  # noqa: E402
from undercloud.network import devices  # noqa: E402

SERVICES = ["identity", "network"]
HOST = "bench1"
CLIENTS = 4


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _create(api, kind, body):
    status, answer = api.request("network", "POST", f"/v2.0/{kind}s", {kind: body})
    assert status == 201, (kind, status, answer)
    return answer[kind]


def _delete(api, kind, resource_id):
    status, answer = api.request("network", "DELETE", f"/v2.0/{kind}s/{resource_id}")
    assert status == 204, (kind, status, answer)


def _network_with_subnet(api, name, cidr):
    network = _create(api, "network", {"name": name})
    subnet = _create(api, "subnet", {"network_id": network["id"], "cidr": cidr,
                                     "ip_version": 4, "name": name})
    return network, subnet


def port_create(api, total: int) -> dict:
    network, _ = _network_with_subnet(api, "bench-ports", "10.200.0.0/20")
    latencies, addresses, errors = [], [], []
    lock = threading.Lock()

    def client(count):
        for _ in range(count):
            started = time.perf_counter()
            status, answer = api.request("network", "POST", "/v2.0/ports",
                                         {"port": {"network_id": network["id"]}})
            elapsed = time.perf_counter() - started
            with lock:
                if status == 201:
                    latencies.append(elapsed)
                    addresses.extend(ip["ip_address"] for ip in answer["port"]["fixed_ips"])
                else:
                    errors.append((status, answer))

    threads = [threading.Thread(target=client, args=(total // CLIENTS,)) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"ports": len(latencies), "errors": len(errors),
            "duplicate_addresses": len(addresses) - len(set(addresses)),
            "ports_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p90_ms": round(1000 * _percentile(latencies, 0.9), 1)}


def _ip(*args, namespace=None, check=True):
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    return subprocess.run([*prefix, *args], capture_output=True, text=True, check=check,
                          timeout=60)


def _wait(check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _link_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def port_to_lease(api, count: int) -> dict:
    network, _ = _network_with_subnet(api, "bench-lease", "10.201.0.0/24")
    bridge = devices.bridge(network["id"])
    if not _wait(lambda: _link_exists(bridge), 60):
        return {"error": f"bridge {bridge} never appeared (is the agent running?)"}
    seconds = []
    for number in range(count):
        namespace = f"sbxbench{number}"
        started = time.perf_counter()
        port = _create(api, "port", {"network_id": network["id"], "binding:host_id": HOST,
                                     "device_owner": "compute:nova",
                                     "device_id": f"bench-guest-{number}"})
        tap = devices.tap(port["id"])
        try:
            # Play the hypervisor: the guest's NIC, its tap end on the network's bridge.
            _ip("ip", "netns", "add", namespace)
            _ip("ip", "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns",
                namespace)
            _ip("ip", "link", "set", "eth0", "address", port["mac_address"], "up",
                namespace=namespace)
            _ip("ip", "link", "set", tap, "master", bridge, "up")
            leased = _ip("busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "40", "-T", "1",
                         "-s", "/bin/true", namespace=namespace, check=False)
            if leased.returncode == 0:
                seconds.append(time.perf_counter() - started)
        finally:
            _ip("ip", "link", "del", tap, check=False)
            _ip("ip", "netns", "del", namespace, check=False)
            _delete(api, "port", port["id"])
    if not seconds:
        return {"leases": 0}
    return {"leases": len(seconds), "median_s": round(statistics.median(seconds), 2),
            "max_s": round(max(seconds), 2)}


def _namespaces() -> set[str]:
    return {line.split()[0] for line in _ip("ip", "netns", "list").stdout.splitlines()
            if line.startswith(devices.NAMESPACE_PREFIXES)}


def networks(api, count: int) -> dict:
    started = time.perf_counter()
    made = []
    for number in range(count):
        network, subnet = _network_with_subnet(api, f"bench-net-{number}",
                                               f"10.{210 + number // 250}.{number % 250}.0/24")
        router = _create(api, "router", {"name": f"bench-router-{number}"})
        status, answer = api.request("network", "PUT",
                                     f"/v2.0/routers/{router['id']}/add_router_interface",
                                     {"subnet_id": subnet["id"]})
        assert status == 200, answer
        made.append((network, subnet, router))
    api_seconds = time.perf_counter() - started
    wanted = {devices.router_namespace(r["id"]) for _, _, r in made} | \
        {devices.dhcp_namespace(n["id"]) for n, _, _ in made}
    built = _wait(lambda: wanted <= _namespaces(), 600)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for network, subnet, router in made:
        api.request("network", "PUT", f"/v2.0/routers/{router['id']}/remove_router_interface",
                    {"subnet_id": subnet["id"]})
        _delete(api, "router", router["id"])
        _delete(api, "network", network["id"])
    gone = _wait(lambda: not (wanted & _namespaces()), 600)
    return {"networks": count, "api_s": round(api_seconds, 1),
            "build_s": round(build_seconds, 1) if built else "not built in 600 s",
            "teardown_s": round(time.perf_counter() - started, 1) if gone
            else "not gone in 600 s"}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, default=400)
    parser.add_argument("--leases", type=int, default=5)
    parser.add_argument("--networks", type=int, default=50)
    args = parser.parse_args()
    root = os.geteuid() == 0
    with tempfile.TemporaryDirectory(prefix="stackbox-bench-network-", dir="/var/tmp") as data:
        undercloud = start(Path(data), SERVICES, {
            # Unlimited quotas: the figures are about speed, not Neutron's default limits.
            "network": {"host": HOST, "report_interval": 1, "reconcile_interval": 5,
                        "quota_network": -1, "quota_subnet": -1, "quota_port": -1,
                        "quota_router": -1,
                        "agent_modes": ["l2", "dhcp", "l3", "metadata"] if root else []}})
        try:
            api = Api(undercloud)
            results = {"port-create": port_create(api, args.ports)}
            if root:
                results["port-to-lease"] = port_to_lease(api, args.leases)
                results[f"{args.networks}-networks"] = networks(api, args.networks)
            else:
                results["data plane"] = "skipped: needs root"
        finally:
            undercloud.stop()
    for name, figures in results.items():
        print(f"{name:16} {json.dumps(figures)}")


if __name__ == "__main__":
    main()
