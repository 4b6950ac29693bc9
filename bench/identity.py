#!/usr/bin/env python3
"""Benchmark: Stackbox identity against the real Keystone, same load, same password hash cost.

Prints numbers and asserts nothing. Both run on free loopback ports with the same gunicorn
worker and thread counts (Stackbox's api.workers/api.threads) and bcrypt at the same cost.
CLIENTS processes with keep-alive connections measure, for SECONDS each:
  validate  GET /v3/auth/tokens with X-Subject-Token
  rescope   POST /v3/auth/tokens, token method, project scope
  password  POST /v3/auth/tokens, password method, project scope
Goals (Stackbox ÷ Keystone): validate >= 20x, rescope >= 10x, password >= 1x.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from bench import keystone_peer  # noqa: E402
from tests.fixtures.undercloud import start  # noqa: E402
from undercloud.common import config as configuration  # noqa: E402

GOALS = {"validate": 20, "rescope": 10, "password": 1}
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def password_body(password: str, project_id: str) -> dict:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"id": project_id}}}}


def login(endpoint: str, password: str) -> tuple[str, str]:
    """An admin token scoped to the admin project, and that project's id."""
    host = urlsplit(endpoint)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    connection.request("POST", "/v3/auth/tokens", json.dumps(body), JSON)
    response = connection.getresponse()
    payload = response.read()
    if response.status != 201:
        raise RuntimeError(f"POST /v3/auth/tokens answered {response.status}: {payload[:300]!r}")
    return response.getheader("X-Subject-Token"), json.loads(payload)["token"]["project"]["id"]


def request_for(kind: str, token: str, project_id: str, password: str):
    """(method, path, body, headers, expected status) of one request of a kind."""
    if kind == "validate":
        return "GET", "/v3/auth/tokens", None, \
            {"X-Auth-Token": token, "X-Subject-Token": token, "Accept": "application/json"}, 200
    if kind == "rescope":
        body = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
                         "scope": {"project": {"id": project_id}}}}
        return "POST", "/v3/auth/tokens", json.dumps(body), JSON, 201
    return "POST", "/v3/auth/tokens", json.dumps(password_body(password, project_id)), JSON, 201


def client(endpoint, request, seconds, max_requests, start_at, results):
    """One client: the same request over one keep-alive connection until time or count runs out."""
    method, path, body, headers, expected = request
    host = urlsplit(endpoint)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    ok = errors = 0
    first_error = None
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and ok + errors < max_requests:
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors += 1
            first_error = first_error or repr(exc)
            connection.close()
            connection = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            continue
        if response.status == expected:
            ok += 1
        else:
            errors += 1
            first_error = first_error or f"{response.status} {payload[:200]!r}"
    results.put((ok, errors, first_error, seconds - max(0.0, deadline - time.monotonic())))


def measure(endpoint, request, clients, seconds, max_requests) -> dict:
    results = multiprocessing.Queue()
    start_at = time.time() + 0.3  # all clients start together once forked
    processes = [multiprocessing.Process(target=client, args=(endpoint, request, seconds,
                                                              max_requests, start_at, results))
                 for _ in range(clients)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    ok = sum(o[0] for o in outcomes)
    elapsed = max(o[3] for o in outcomes)
    return {"ok": ok, "errors": sum(o[1] for o in outcomes), "rate": ok / elapsed,
            "first_error": next((o[2] for o in outcomes if o[2]), None)}


def bench(name, endpoint, password, kinds, clients, seconds, max_requests) -> dict:
    try:
        token, project_id = login(endpoint, password)
    except (RuntimeError, OSError) as exc:
        print(f"  {name}: cannot log in ({exc}); skipping", flush=True)
        return {}
    rates = {}
    for kind in kinds:
        request = request_for(kind, token, project_id, password)
        measure(endpoint, request, 1, 0.5, 20)  # warm-up: caches, connections, lazy imports
        rates[kind] = measure(endpoint, request, clients, seconds, max_requests)
        result = rates[kind]
        print(f"  {name:<22} {kind:<9} {result['rate']:9.1f}/s  ({result['ok']} ok, "
              f"{result['errors']} errors)"
              + (f"  first error: {result['first_error']}" if result["first_error"] else ""),
              flush=True)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=200000, help="per client")
    parser.add_argument("--rounds", type=int,
                        help="bcrypt cost for both (default: Stackbox's identity default)")
    parser.add_argument("--kinds", default="validate,rescope,password")
    parser.add_argument("--targets", default="keystone,keystone+cache,stackbox",
                        help="what to measure; keystone+cache is Keystone with an in-process "
                             "cache ([cache] dogpile.cache.memory, what memcached gives a "
                             "real deployment)")
    args = parser.parse_args()
    defaults = configuration.load(None, environ={})
    rounds = args.rounds or defaults["identity"]["password_hash_rounds"]
    workers, threads = defaults["api"]["workers"], defaults["api"]["threads"]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    print(f"identity benchmark: {args.clients} clients x {args.seconds:g} s each, keep-alive, "
          f"loopback; {os.cpu_count()} CPUs")
    print(f"  both: gunicorn {workers} workers x {threads} threads, SQLite, fernet tokens, "
          f"bcrypt cost N = {rounds}", flush=True)
    table = {}
    with tempfile.TemporaryDirectory(prefix="stackbox-bench-identity-") as tmp:
        tmp = Path(tmp)
        undercloud = start(tmp / "stackbox", ["identity"],
                           {"identity": {"password_hash_rounds": rounds},
                            "api": {"workers": workers, "threads": threads},
                            "logging": {"level": "WARNING"}})
        try:
            password = yaml.safe_load(undercloud.clouds_yaml.read_text())[
                "clouds"]["stackbox"]["auth"]["password"]
            targets = [t.strip() for t in args.targets.split(",")]
            # Keystone as installed (no cache), then as deployed (a token and role cache).
            peers = [(name, name.endswith("+cache")) for name in targets if name != "stackbox"]
            for name, cache in peers:
                with keystone_peer.keystone(tmp / name, password, rounds, workers, threads,
                                            undercloud.config["region"], cache) as peer:
                    table[name] = bench(f"keystone {keystone_peer.KEYSTONE_VERSION}"
                                        + (" +cache" if cache else ""), peer.endpoint, password,
                                        kinds, args.clients, args.seconds, args.max_requests)
            table["stackbox"] = {}
            if "stackbox" in targets:
                table["stackbox"] = bench("stackbox", undercloud.endpoint("identity"), password,
                                          kinds, args.clients, args.seconds, args.max_requests)
        finally:
            undercloud.stop()
    print_table(table, kinds)
    # Other work on the host skews every rate; say how busy it was.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} CPUs")


def print_table(table, kinds):
    peers = [name for name in table if name != "stackbox"]
    columns = [*peers, "stackbox", *[f"stackbox/{name}" for name in peers]]
    widths = [max(len(name) + 2, 10) for name in columns]
    print()
    print(f"{'per second':<10}" + "".join(f"{name:>{w}}" for name, w in zip(columns, widths))
          + f"{'goal':>8}")
    for kind in kinds:
        rates = [table[name].get(kind, {}).get("rate") for name in [*peers, "stackbox"]]
        ours = rates[-1]
        cells = [f"{rate:.1f}" if rate is not None else "n/a" for rate in rates]
        cells += [f"{ours / theirs:.1f}x" if ours and theirs else "n/a" for theirs in rates[:-1]]
        print(f"{kind:<10}" + "".join(f"{cell:>{w}}" for cell, w in zip(cells, widths))
              + f"{'>= ' + str(GOALS[kind]) + 'x':>8}")

if __name__ == "__main__":
    main()
