#!/usr/bin/env python3
"""Benchmark: the overcloud deployer on 4 nspawn hosts (1 control, 1 network, 2 compute).
Prints numbers, asserts nothing. Root only (nspawn, a bridge).

  fresh deploy   `stackbox overcloud deploy` on new hosts: repository check, inventory,
                 ansible-playbook of every role, until the APIs answer
  re-run         the same command again (idempotent: changed=0 expected)
  slowest tasks  the 10 slowest task x host pairs of the fresh deploy (timing.json)
  bare metal     with --baremetal, then a compute node provisioned through the undercloud
                 (a TCG VM behind a BMC): from `deploy` to its sshd answering (PXE, the
                 image written, first boot), and the whole deploy that adds it

Anchors (not run here): a standalone TripleO deploy took 1 h 35 min over 1,007 tasks;
DevStack takes 15-30 min. Building the hosts (`lab up`) and the package repository are timed
apart: they are the lab's and the undercloud's costs, not the deploy's.
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures import overcloud_lab  # noqa: E402
from tests.fixtures.undercloud import CLIENTS_VENV, REPO, stackbox_argv  # noqa: E402

ROLES = {"oc-0": ["control"], "oc-1": ["network"], "oc-2": ["compute"], "oc-3": ["compute"]}


def timed(action):
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def baremetal(lab) -> int:
    """Add one bare-metal compute node; print when its sshd answered and the deploy's end."""
    node = lab.baremetal_node(CLIENTS_VENV, "compute")
    plan = lab.write_plan(ROLES, name="overcloud-bm.yaml",
                          baremetal={"roles": {"compute": {"count": 1}}})
    started = time.monotonic()
    answered = None
    deploy = subprocess.Popen(stackbox_argv("overcloud", "deploy", str(plan), "--config",
                                            str(lab.undercloud.config_file)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=str(REPO))
    lines = []
    for line in deploy.stdout:
        lines.append(line)
        if answered is None and "sshd answers" in line:
            answered = time.monotonic() - started
    status = deploy.wait()
    total = time.monotonic() - started
    if status != 0:
        print("".join(lines[-60:]))
        print("bare-metal deploy FAILED")
        return 1
    print(f"bare-metal node {node['name']}: deploy to sshd {answered:6.1f} s "
          "(PXE, image written, first boot; TCG)")
    print(f"deploy adding it:           {total:6.1f} s   (the roles onto a TCG VM)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="leave the lab up")
    parser.add_argument("--baremetal", action="store_true",
                        help="then add a compute node provisioned through bare metal")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="stackbox-bench-overcloud-", dir="/var/tmp"))
    lab = overcloud_lab.OvercloudLab(work)
    try:
        _, lab_seconds = timed(lambda: lab.lab_up(4))
        lab.start_undercloud()
        _, repo_seconds = timed(lambda: overcloud_lab.stackbox(
            "repo", "build", "--config", str(lab.undercloud.config_file)))
        plan = lab.write_plan(ROLES)
        fresh, fresh_seconds = timed(lambda: lab.deploy(plan))
        if fresh.returncode != 0:
            print(fresh.stdout[-4000:], fresh.stderr[-2000:])
            print("fresh deploy FAILED")
            return 1
        timing = json.loads((lab.state_dir / "overcloud" / "timing.json").read_text())
        tasks = sum(1 for _ in timing)
        rerun, rerun_seconds = timed(lambda: lab.deploy(plan))
        changed = {host: counts["changed"] for host, counts in lab.last_deploy()["recap"].items()}
        print(f"lab up, 4 nspawn hosts:     {lab_seconds:6.1f} s")
        print(f"repo build (cached debs):   {repo_seconds:6.1f} s")
        print(f"fresh deploy, 4 hosts:      {fresh_seconds:6.1f} s   (goal < 300 s; "
              f"{tasks} task x host results)")
        print(f"idempotent re-run:          {rerun_seconds:6.1f} s   (goal < 60 s; "
              f"exit {rerun.returncode}, changed per host {changed})")
        print("10 slowest tasks of the fresh deploy:")
        for entry in sorted(timing, key=lambda e: e["seconds"], reverse=True)[:10]:
            print(f"  {entry['seconds']:6.1f} s  {entry['host']:<6} {entry['play']}: "
                  f"{entry['task']}")
        print("anchors: TripleO standalone 1 h 35 min over 1,007 tasks; DevStack 15-30 min")
        return baremetal(lab) if args.baremetal else 0
    finally:
        if not args.keep:
            lab.down()
            overcloud_lab.remove(work)


if __name__ == "__main__":
    sys.exit(main())
