#!/usr/bin/env python3
"""Benchmark: 1 GiB image upload and download on loopback, against `dd` on the same filesystem.

Prints numbers and asserts nothing. Starts an identity + image undercloud in a temporary
directory, writes a real (not sparse) random file there, then times in the same run:
  dd        dd if=FILE of=COPY bs=4M conv=fsync          (the filesystem's own copy speed)
  upload    PUT /v2/images/{id}/file from FILE            (store write + fsync + md5/sha512)
  download  GET /v2/images/{id}/file into a file, fsynced
and samples the RSS and CPU of the API processes during the upload; --rounds repeats the
three, interleaved, and reports medians (a busy machine makes single runs noisy).
All three write new files and nothing is deleted until the end, so none gets the page cache
another just freed. That matters in a VM whose host takes back the guest's free memory (this
one): a page touched for the first time costs several times what copying it does, so dd into
fresh memory runs 3-4x slower than dd into memory a deleted file just gave back. The bench
prints both dd figures, and md5 and sha512 alone: each digest runs sequentially over every
byte, so no upload finishes before the slowest of them.
The upload's floor is the slower of dd into fresh memory and the slowest single digest.
Goals: upload >= 0.9 of that floor; download >= 0.7 of dd; RSS growth during an upload < 50 MB.
"""
import argparse
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from tests.fixtures.undercloud import start  # noqa: E402

GIB = 1024 ** 3
BLOCK = 4 * 1024 * 1024
GOAL_RATIO, GOAL_FLOOR_RATIO, GOAL_RSS_MB = 0.7, 0.9, 50


def login(undercloud) -> str:
    auth = yaml.safe_load(undercloud.clouds_yaml.read_text())["clouds"]["stackbox"]["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"], "domain": {"id": "default"}}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"id": "default"}}}}}
    host = urlsplit(undercloud.endpoint("identity"))
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    connection.request("POST", "/v3/auth/tokens", json.dumps(body),
                       {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.headers["X-Subject-Token"]


def image_connection(undercloud) -> http.client.HTTPConnection:
    host = urlsplit(undercloud.endpoint("image"))
    return http.client.HTTPConnection(host.hostname, host.port, timeout=600, blocksize=BLOCK)


def write_random_file(path: Path, size: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "wb") as stream:
        for _ in range(size // BLOCK):
            block = os.urandom(BLOCK)
            digest.update(block)
            stream.write(block)
        os.fsync(stream.fileno())
    return digest.hexdigest()


def time_dd(source: Path, target: Path) -> float:
    started = time.monotonic()
    subprocess.run(["dd", f"if={source}", f"of={target}", "bs=4M", "conv=fsync"], check=True,
                   capture_output=True)
    return time.monotonic() - started


def time_dd_into_freed_memory(source: Path, target: Path) -> float:
    """dd again right after deleting its first copy: the page cache it fills was just freed."""
    time_dd(source, target)
    target.unlink()
    elapsed = time_dd(source, target)
    target.unlink()
    return elapsed


def hash_seconds(algorithm: str, size: int) -> float:
    """What one digest alone takes over `size` bytes on one core."""
    block = os.urandom(BLOCK)
    digest = hashlib.new(algorithm, usedforsecurity=False)
    started = time.monotonic()
    for _ in range(size // BLOCK):
        digest.update(block)
    return time.monotonic() - started


def api_processes(serve_pid: int) -> list[int]:
    """Our serve's API processes (the gunicorn master and its workers), not anyone else's."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    family, queue = [], [serve_pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            family.append(child)
            queue.append(child)
    found = []
    for pid in family:
        try:
            if b"undercloud.serve.api" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Samples each API process's RSS every 20 ms; `growth_mb` is the largest rise of any."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.baseline = {pid: rss_kb(pid) for pid in pids}
        self.peak = dict(self.baseline)
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            for pid in self.baseline:
                self.peak[pid] = max(self.peak[pid], rss_kb(pid))
            time.sleep(0.02)

    def growth_mb(self) -> float:
        return max(self.peak[p] - self.baseline[p] for p in self.baseline) / 1024


def upload(undercloud, token, path: Path) -> tuple[str, float]:
    connection = image_connection(undercloud)
    connection.request("POST", "/v2/images", json.dumps(
        {"name": path.name, "disk_format": "raw", "container_format": "bare"}),
        {"X-Auth-Token": token, "Content-Type": "application/json"})
    response = connection.getresponse()
    image_id = json.loads(response.read())["id"]
    started = time.monotonic()
    with open(path, "rb") as body:
        connection.request("PUT", f"/v2/images/{image_id}/file", body,
                           {"X-Auth-Token": token, "Content-Type": "application/octet-stream",
                            "Content-Length": str(path.stat().st_size)})
        response = connection.getresponse()
        response.read()
    elapsed = time.monotonic() - started
    if response.status != 204:
        raise SystemExit(f"upload answered {response.status}")
    return image_id, elapsed


def warm_up(undercloud, token, tmp: Path):
    """A few small uploads first, so every worker has loaded what an upload needs."""
    small = tmp / "small.raw"
    write_random_file(small, BLOCK)
    for _ in range(6):
        upload(undercloud, token, small)
    small.unlink()


def download(undercloud, token, image_id, target: Path) -> tuple[float, str]:
    connection = image_connection(undercloud)
    started = time.monotonic()
    connection.request("GET", f"/v2/images/{image_id}/file", headers={"X-Auth-Token": token})
    response = connection.getresponse()
    buffer = bytearray(BLOCK)
    with open(target, "wb") as stream:
        while True:
            count = response.readinto(buffer)
            if not count:
                break
            stream.write(memoryview(buffer)[:count])
        os.fsync(stream.fileno())
    elapsed = time.monotonic() - started
    return elapsed, response.headers.get("Content-MD5", "")


def cpu_seconds(pids) -> float:
    """User + system CPU the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


def delete(undercloud, token, image_id):
    connection = image_connection(undercloud)
    connection.request("DELETE", f"/v2/images/{image_id}", headers={"X-Auth-Token": token})
    connection.getresponse().read()


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3,
                        help="dd, upload and download this many times, interleaved")
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    rounds = []
    with tempfile.TemporaryDirectory(prefix="stackbox-bench-image-") as tmp:
        tmp = Path(tmp)
        undercloud = start(tmp / "data", ["identity", "image"])
        try:
            token = login(undercloud)
            source = tmp / "image.raw"
            md5 = write_random_file(source, size)
            warm_up(undercloud, token, tmp)
            pids = api_processes(undercloud.process.pid)
            images = []
            for number in range(args.rounds):
                dd_seconds = time_dd(source, tmp / f"dd-{number}.copy")
                sampler = RssSampler(pids)
                sampler.start()
                cpu_before = cpu_seconds(pids)
                image_id, up_seconds = upload(undercloud, token, source)
                up_cpu = cpu_seconds(pids) - cpu_before
                sampler.stopping.set()
                sampler.join()
                images.append(image_id)
                output = tmp / f"out-{number}.raw"
                down_seconds, served_md5 = download(undercloud, token, image_id, output)
                identical = served_md5 == md5 and output.stat().st_size == size
                rounds.append((dd_seconds, up_seconds, down_seconds, sampler.growth_mb(),
                               up_cpu, identical))
            for image_id in images:
                delete(undercloud, token, image_id)
            freed_dd = time_dd_into_freed_memory(source, tmp / "again.copy")
            md5_only, sha512_only = hash_seconds("md5", size), hash_seconds("sha512", size)
        finally:
            undercloud.stop()
    mib = size / (1024 * 1024)
    print(f"image data, {mib:.0f} MiB on loopback, {args.rounds} interleaved rounds "
          f"(same filesystem for dd, store and client; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs)")
    for dd_s, up_s, down_s, rss, cpu, same in rounds:
        print(f"  round: dd {dd_s:5.2f} s   upload {up_s:5.2f} s ({dd_s / up_s:.2f} of dd)   "
              f"download {down_s:5.2f} s ({dd_s / down_s:.2f} of dd)   API CPU during upload "
              f"{cpu:4.2f} s   RSS +{rss:.1f} MB   identical {same}")
    dd_s, up_s, down_s = (median([r[i] for r in rounds]) for i in range(3))
    print(f"  median dd (fresh memory):   {dd_s:6.2f} s  {mib / dd_s:6.0f} MiB/s")
    print(f"  median upload   PUT file:   {up_s:6.2f} s  {mib / up_s:6.0f} MiB/s   "
          f"ratio to dd {dd_s / up_s:.2f}   (goal >= {GOAL_RATIO})")
    print(f"  median download GET file:   {down_s:6.2f} s  {mib / down_s:6.0f} MiB/s   "
          f"ratio to dd {dd_s / down_s:.2f}   (goal >= {GOAL_RATIO})")
    print(f"  largest API process RSS growth during an upload: "
          f"{max(r[3] for r in rounds):.1f} MB   (goal < {GOAL_RSS_MB} MB)")
    print(f"  downloads identical to the source (md5): {all(r[5] for r in rounds)}")
    print(f"  dd into just-freed memory:  {freed_dd:6.2f} s  {mib / freed_dd:6.0f} MiB/s   "
          f"the median upload is {freed_dd / up_s:.2f} of it, the download "
          f"{freed_dd / down_s:.2f}")
    print(f"  md5 alone on one core:      {md5_only:6.2f} s  {mib / md5_only:6.0f} MiB/s")
    print(f"  sha512 alone on one core:   {sha512_only:6.2f} s  {mib / sha512_only:6.0f} MiB/s")
    floor = max(dd_s, md5_only, sha512_only)
    print(f"  upload floor (slower of dd into fresh memory and the slowest digest): "
          f"{floor:6.2f} s; the median upload is {floor / up_s:.2f} of it   "
          f"(goal >= {GOAL_FLOOR_RATIO})")


if __name__ == "__main__":
    main()
