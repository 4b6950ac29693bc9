#!/usr/bin/env python3
"""Benchmark: bare metal on a lab of qemu/TCG VMs behind BMCs. Prints numbers, asserts nothing.
Root only (libvirt's qemu:///system, a bridge, dnsmasq).

For 1 node, then 4 other nodes at once: `stackbox node import`, manage, inspect, provide and
deploy the tiny guest, then the time each node spent in each phase of its inspection boot and
its deploy boot:

  power on          the verb sent to the API -> the BMC powers the VM on (the BMC's log)
  DHCP              power on -> dnsmasq acknowledges the firmware's (iPXE's) request
  ramdisk up        DHCP -> the ramdisk's "up" line on the serial console
  inventory posted  ramdisk up -> the conductor stored the inventory (inspection)
  image written     ramdisk up -> the conductor heard write_image finished (deploy)
  booted from disk  image written -> "stackbox-guest: ready" on the console (deploy)

Timestamps come from the BMCs' and the conductor's logs, dnsmasq's log and the consoles
(watched as they grow). Cells show the median and, for 4 nodes, the slowest node.
"""
import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.compute import Api  # noqa: E402
from tests.fixtures.baremetal_lab import (  # noqa: E402
    Lab,
    baremetal_settings,
    build_ramdisk,
    free_network,
    stackbox,
    suffix,
)
from tests.fixtures.undercloud import REPO, start  # noqa: E402
from undercloud.client import enroll, nodes_file
from undercloud.client import session as cloud  # noqa: E402
from undercloud.lab.lab import nodes_document  # noqa: E402

SERVICES = ["identity", "image", "baremetal"]
TINY_GUEST_BUILD = REPO / "images" / "tiny-guest" / "build"
STEP_TIMEOUT = 1800
PHASES = {"inspect": ["power on", "DHCP", "ramdisk up", "inventory posted"],
          "deploy": ["power on", "DHCP", "ramdisk up", "image written", "booted from disk"]}
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
DNSMASQ_ACK = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d) dnsmasq-dhcp\[\d+\]: (?:\d+ )?"
                         r"DHCPACK\(\S+\) \S+ ([0-9a-f:]{17})")


class Consoles(threading.Thread):
    """Watches the VMs' serial consoles: (time, line) for every line as it appears."""

    def __init__(self, paths: dict[str, str]):
        super().__init__(daemon=True)
        self.paths = paths
        self.lines = {name: [] for name in paths}
        self.offsets = {name: 0 for name in paths}
        self.partial = {name: b"" for name in paths}
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.2):
            for name, path in self.paths.items():
                try:
                    with open(path, "rb") as stream:
                        stream.seek(self.offsets[name])
                        data = stream.read()
                except FileNotFoundError:
                    continue
                self.offsets[name] += len(data)
                *complete, self.partial[name] = (self.partial[name] + data).split(b"\n")
                now = time.time()
                self.lines[name] += [(now, line.decode(errors="replace")) for line in complete]

    def first(self, name: str, text: str, after: float) -> float | None:
        return next((at for at, line in self.lines[name] if at >= after and text in line), None)


def _log_times(path: Path, pattern: str) -> list[float]:
    """Times of the lines of a stackbox-format log that contain `pattern`."""
    found = []
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            match = LOG_TIME.match(line)
            if match and pattern in line:
                found.append(datetime.datetime.strptime(
                    match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return found


def _dhcp_acks(path: Path) -> list[tuple[float, str]]:
    """(time, MAC) of dnsmasq's DHCPACKs; its log gives no year, so this year's."""
    acks = []
    year = datetime.date.today().year
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            match = DNSMASQ_ACK.match(line)
            if match:
                when = datetime.datetime.strptime(f"{year} {match.group(1)}", "%Y %b %d %H:%M:%S")
                acks.append((when.timestamp(), match.group(2)))
    return acks


def _first(times, after: float) -> float | None:
    return next((at for at in sorted(times) if at >= after), None)


def _wait(api, node_ids: list[str], goal: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    pending = set(node_ids)
    while pending:
        for node_id in list(pending):
            node = api.node(node_id)
            if node["provision_state"] in enroll.WORKING or node.get("target_provision_state"):
                continue
            if node["provision_state"] != goal:
                raise SystemExit(f"node {node.get('name')} is {node['provision_state']}, not "
                                 f"{goal}: {node.get('last_error')}")
            pending.discard(node_id)
        if pending and time.monotonic() > deadline:
            raise SystemExit(f"nodes {sorted(pending)} did not reach {goal} in {STEP_TIMEOUT} s")
        time.sleep(1)


def _verb(api, node_ids, verb, goal) -> float:
    started = time.time()
    for node_id in node_ids:
        api.set_provision_state(node_id, verb)
    _wait(api, node_ids, goal)
    return started


def _phases(kind, started, vm, node_id, data_dir, consoles) -> dict:
    """The seconds node `vm` spent in each phase of the boot that began at `started`."""
    logs = Path(data_dir) / "logs"
    conductor = logs / "baremetal.log"   # the API and the conductor log here
    powered = _first(_log_times(Path(vm["bmc_log"]), f"{vm['name']}: power on")
                     + _log_times(Path(vm["bmc_log"]), f"{vm['name']}: power reset")
                     + _log_times(Path(vm["bmc_log"]), f"{vm['name']}: power cycle"),
                     started)
    # dnsmasq stamps whole seconds: an ACK in the power-on second counts.
    dhcp = _first([at for at, mac in _dhcp_acks(logs / "baremetal-dnsmasq.log")
                   if mac == vm["mac"]], int(powered) if powered else started)
    ramdisk = consoles.first(vm["name"], "stackbox-ramdisk: up", started)
    if kind == "inspect":
        done = _first(_log_times(conductor, f"node {node_id}: inventory stored"), started)
        times = [started, powered, dhcp, ramdisk, done]
    else:
        written = _first(_log_times(conductor, f"node {node_id}: the ramdisk finished "
                                               "write_image"), started)
        ready = consoles.first(vm["name"], "stackbox-guest: ready", written or started)
        times = [started, powered, dhcp, ramdisk, written, ready]
    return {phase: (None if begin is None or end is None else max(0.0, end - begin))
            for phase, begin, end in zip(PHASES[kind], times, times[1:])}


def scenario(undercloud, lab, vms, image_id, consoles) -> dict:
    """Import, introspect and deploy `vms` at once; {kind: {phase: [seconds per node]}}."""
    nodes_path = os.path.join(lab.folder, f"bench-{len(vms)}.yaml")
    everything = {entry["name"]: entry for entry in nodes_document(lab.state)}
    nodes_file.write(nodes_path, [everything[vm["name"]] for vm in vms])
    imported = stackbox("node", "import", nodes_path, "--config", str(undercloud.config_file))
    if imported.returncode != 0:
        raise SystemExit(f"node import failed: {imported.stderr}")
    api = enroll.Baremetal(cloud.Session(cloud.find_cloud("stackbox",
                                                          str(undercloud.data_dir))))
    ids = [api.node(vm["name"])["uuid"] for vm in vms]
    _verb(api, ids, "manage", "manageable")
    inspected = _verb(api, ids, "inspect", "manageable")
    _verb(api, ids, "provide", "available")
    for node_id in ids:
        api.call("PATCH", f"/nodes/{node_id}", [{"op": "add", "path": "/instance_info",
                                                 "value": {"image_source": image_id}}])
    deployed = _verb(api, ids, "active", "active")
    deadline = time.monotonic() + 600
    while any(consoles.first(vm["name"], "stackbox-guest: ready", deployed) is None
              for vm in vms) and time.monotonic() < deadline:
        time.sleep(1)
    results = {kind: {phase: [] for phase in PHASES[kind]} for kind in PHASES}
    for vm, node_id in zip(vms, ids):
        for kind, started in (("inspect", inspected), ("deploy", deployed)):
            for phase, seconds in _phases(kind, started, vm, node_id, undercloud.data_dir,
                                          consoles).items():
                results[kind][phase].append(seconds)
    return results


def _cell(values: list) -> str:
    known = [value for value in values if value is not None]
    if not known:
        return "-"
    median = statistics.median(known)
    text = f"{median:.1f}" if len(values) == 1 else f"{median:.1f} / {max(known):.1f}"
    return text + ("" if len(known) == len(values) else f" ({len(values) - len(known)} ?)")


def report(results: dict) -> None:
    counts = list(results)
    print(f"\n{'boot':<9}{'phase':<18}" + "".join(
        f"{f'{count} node' + ('s' if count > 1 else '') + ' (s)':>22}" for count in counts))
    for kind, phases in PHASES.items():
        for phase in phases:
            print(f"{kind:<9}{phase:<18}" + "".join(
                f"{_cell(results[count][kind][phase]):>22}" for count in counts))
    print("(4 nodes: median / slowest node; '?' counts nodes whose event was not found)")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parallel", type=int, default=4, help="nodes at once (default 4)")
    parser.add_argument("--memory", type=int, default=768, help="MiB per VM (default 768)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench/baremetal.py needs root (libvirt, a bridge, dnsmasq)")
    folder = tempfile.mkdtemp(prefix="stackbox-bmbench-", dir="/var/tmp")
    os.chmod(folder, 0o755)
    lab = Lab(folder, 1 + args.parallel, f"sbxbench{suffix()}", memory_mb=args.memory,
              disk_gb=2)
    undercloud = None
    consoles = None
    try:
        guest = Path(folder) / "tiny-guest"
        subprocess.run([sys.executable, str(TINY_GUEST_BUILD), "--output", str(guest),
                        "--quiet"], check=True, timeout=900, stdout=subprocess.DEVNULL)
        data_dir = Path(folder) / "undercloud"
        build_ramdisk(data_dir)
        lab.up()
        undercloud = start(data_dir, SERVICES, {"baremetal": baremetal_settings(
            lab.bridge, free_network(), deploy_callback_timeout=900)}, timeout=180)
        image_id = Api(undercloud).upload_image(f"tiny-guest-{suffix()}",
                                                guest / "tiny-guest.qcow2")
        consoles = Consoles({vm["name"]: vm["console_log"] for vm in lab.nodes})
        consoles.start()
        results = {}
        for vms in (lab.nodes[:1], lab.nodes[1:]):
            print(f"{len(vms)} node(s): import, introspect, deploy ...", flush=True)
            began = time.monotonic()
            results[len(vms)] = scenario(undercloud, lab, vms, image_id, consoles)
            print(f"  {time.monotonic() - began:.0f} s in all", flush=True)
        report(results)
    finally:
        if consoles is not None:
            consoles.stopping.set()
        if undercloud is not None:
            undercloud.stop()
        lab.down()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
