"""Overcloud acceptance on 4 nspawn hosts (1 control, 1 network, 2 compute), driven as a user
would: `stackbox lab up --kind nspawn`, `stackbox overcloud deploy`, the real `openstack` CLI
against the overcloud, a re-run, a by-hand ansible-playbook and a 5th host."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import overcloud_lab
from tests.fixtures.overcloud_lab import stackbox, wait_for
from tests.fixtures.undercloud import REPO

pytestmark = [pytest.mark.lab, pytest.mark.clients, pytest.mark.timeout(1800)]

ROLES = {"oc-0": ["control"], "oc-1": ["network"], "oc-2": ["compute"], "oc-3": ["compute"]}
OTHERS_UNITS = "stackbox-*"


@pytest.fixture(scope="module")
def overcloud(tmp_path_factory, tiny_guest):
    work = Path(tmp_path_factory.mktemp("overcloud"))
    lab = overcloud_lab.OvercloudLab(work)
    try:
        lab.lab_up(4)
        lab.start_undercloud()
        plan = lab.write_plan(ROLES)
        result = lab.deploy(plan)
        lab.fresh = result
        lab.plan = plan
        yield lab
    finally:
        if not os.environ.get("STACKBOX_KEEP_LAB"):   # keep it to look into a failed run
            lab.down()
            overcloud_lab.remove(work)


def cli(lab, clients_venv, *args):
    """The real CLI against the overcloud (tests/fixtures/undercloud.py's openstack_cli)."""
    return lab.overcloud_cli(clients_venv)(*args)


def recap(lab) -> dict:
    return lab.last_deploy()["recap"]


def unit_pids(lab, host) -> dict:
    """Each stackbox unit's main PID and start time: a restart changes both."""
    shown = lab.ssh(host, "systemctl show -p Id -p MainPID -p ExecMainStartTimestampMonotonic "
                          "'stackbox-*' postgresql@15-main libvirtd")
    assert shown.returncode == 0, shown.stderr
    units, current = {}, {}
    for line in shown.stdout.splitlines() + [""]:
        if not line.strip():
            if current.get("Id"):
                units[current["Id"]] = (current.get("MainPID"),
                                        current.get("ExecMainStartTimestampMonotonic"))
            current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return units


def test_a_bad_plan_fails_before_any_host_is_touched(tmp_path):
    cases = {
        "unknown role": ("hosts: {a: {address: 192.0.2.50, roles: [database]}}",
                         "unknown role 'database'"),
        "no controller": ("hosts: {a: {address: 192.0.2.50, roles: [compute]}}",
                          "no control host"),
        "two exclusive roles": ("hosts: {a: {address: 192.0.2.50, roles: [control, compute]}}",
                                "roles compute and control cannot share a host"),
    }
    for name, (text, message) in cases.items():
        plan = tmp_path / f"{name.replace(' ', '-')}.yaml"
        plan.write_text(text + "\n")
        result = stackbox("overcloud", "deploy", str(plan), "--state-dir", str(tmp_path),
                          timeout=60)
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert message in result.stderr, (name, result.stderr)
        assert not (tmp_path / "overcloud").exists(), name


def test_a_fresh_deploy_completes_and_writes_the_clouds_file(overcloud):
    result = overcloud.fresh
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "slowest tasks" in result.stdout.lower(), result.stdout[-3000:]
    for name in ("clouds.yaml", "admin-password"):
        path = overcloud.state_dir / "overcloud" / name
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name
    password = (overcloud.state_dir / "overcloud" / "admin-password").read_text().strip()
    assert password not in result.stdout + result.stderr
    timing = json.loads((overcloud.state_dir / "overcloud" / "timing.json").read_text())
    assert timing, "no per-task timing report"
    assert set(recap(overcloud)) == set(ROLES)
    assert all(counts["failed"] == 0 and counts["unreachable"] == 0
               for counts in recap(overcloud).values())
    status = stackbox("overcloud", "status", "--config",
                      str(overcloud.undercloud.config_file), timeout=120)
    assert status.returncode == 0, status.stdout + status.stderr


def test_both_compute_hosts_are_services_and_hypervisors(overcloud, clients_venv):
    services = wait_for(lambda: [s for s in cli(overcloud, clients_venv, "compute", "service",
                                                "list", "-f", "json")
                                 if s["Binary"] == "nova-compute" and s["State"] == "up"] or None,
                        120, "nova-compute services up")
    assert sorted(s["Host"] for s in services) == ["oc-2", "oc-3"]
    hypervisors = cli(overcloud, clients_venv, "hypervisor", "list", "-f", "json")
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == ["oc-2", "oc-3"]


def test_a_guest_boots_on_a_compute_host_with_dhcp_from_the_network_host(
        overcloud, clients_venv, tiny_guest):
    def run(*args):
        return cli(overcloud, clients_venv, *args)

    run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--public",
        "--file", str(tiny_guest["folder"] / "tiny-guest.qcow2"), "tiny")
    run("network", "create", "private")
    run("subnet", "create", "--network", "private", "--subnet-range", "10.20.0.0/24",
        "private-subnet")
    run("router", "create", "r1")
    run("router", "add", "subnet", "r1", "private-subnet")
    run("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--network", "private",
        "vm1")
    wait_for(lambda: run("server", "show", "vm1", "-f", "json")["status"] in ("ACTIVE", "ERROR")
             or None, 300, "vm1 ACTIVE")
    server = run("server", "show", "vm1", "-f", "json")
    assert server["status"] == "ACTIVE", server
    assert server["OS-EXT-SRV-ATTR:host"] in ("oc-2", "oc-3")
    address = json.dumps(server["addresses"])
    console = wait_for(lambda: (lambda text: text if "stackbox-guest: ready" in text else None)(
        run("console", "log", "show", "vm1")), 300, "the guest's console marker")
    assert "dhcp" in console and "stackbox-guest: network eth0 10.20.0." in console, console
    assert "10.20.0." in address
    agents = run("network", "agent", "list", "-f", "json")
    dhcp_hosts = {a["Host"] for a in agents if a["Agent Type"] == "DHCP agent"}
    assert dhcp_hosts == {"oc-1"}, agents


def test_a_re_run_changes_nothing(overcloud):
    before = {host: unit_pids(overcloud, host) for host in ROLES}
    result = overcloud.deploy(overcloud.plan)
    assert result.returncode == 0, result.stdout[-6000:]
    assert {host: counts["changed"] for host, counts in recap(overcloud).items()} == \
        {host: 0 for host in ROLES}, recap(overcloud)
    assert {host: unit_pids(overcloud, host) for host in ROLES} == before


def test_ansible_playbook_by_hand_gives_the_same_result(overcloud):
    inventory = overcloud.state_dir / "overcloud" / "inventory.yml"
    ansible = Path(sys.executable).parent / "ansible-playbook"
    result = subprocess.run([str(ansible), "-i", str(inventory),
                             str(REPO / "playbooks" / "overcloud.yml")],
                            capture_output=True, text=True, timeout=600, cwd=str(REPO))
    assert result.returncode == 0, result.stdout[-5000:]
    recap_lines = [line for line in result.stdout.splitlines()
                   if " : ok=" in line and "changed=" in line]
    assert len(recap_lines) == len(ROLES), result.stdout[-3000:]
    assert all("changed=0" in line and "failed=0" in line for line in recap_lines), recap_lines


def test_a_fifth_host_joins_as_compute_without_restarting_the_others(overcloud, clients_venv):
    before = {host: unit_pids(overcloud, host) for host in ROLES}
    overcloud.lab_up(5)
    plan = overcloud.write_plan({**ROLES, "oc-4": ["compute"]}, name="overcloud-5.yaml")

    result = overcloud.deploy(plan)

    assert result.returncode == 0, result.stdout[-6000:]
    assert {host: unit_pids(overcloud, host) for host in ROLES} == before
    hypervisors = wait_for(lambda: (lambda found: found if len(found) == 3 else None)(
        cli(overcloud, clients_venv, "hypervisor", "list", "-f", "json")), 120,
        "a third hypervisor")
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == ["oc-2", "oc-3", "oc-4"]


# ~9 minutes under TCG (PXE, a 751 MiB image, then dpkg and a venv inside the emulated VM):
# beyond CI's lab budget, so `scripts/test --slow`; test_overcloud_node_disk.py boots the same
# image with a config drive in the default run.
@pytest.mark.slow
def test_a_bare_metal_node_is_provisioned_and_joins_as_compute(overcloud, clients_venv):
    """The undercloud PXE-deploys the node image onto a VM behind a BMC, the node takes its
    name, ctlplane address and the deployer's key from the config drive, and the roles roll
    onto it over SSH like onto any host; nothing restarts on the others."""
    before = {host: unit_pids(overcloud, host) for host in ROLES}
    node = overcloud.baremetal_node(clients_venv, "compute")
    plan = overcloud.write_plan({**ROLES, "oc-4": ["compute"]}, name="overcloud-bm.yaml",
                                baremetal={"roles": {"compute": {"count": 1}}})

    result = overcloud.deploy(plan, timeout=2400)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert f"node {node['name']}: active" in result.stdout
    assert f"node {node['name']}: sshd answers at 192.168.24.30" in result.stdout
    shown = overcloud.undercloud_cli(clients_venv)("baremetal", "node", "show", node["name"],
                                                   "-f", "json")
    assert shown["provision_state"] == "active"
    assert shown["instance_info"]["ctlplane_address"] == "192.168.24.30"
    assert recap(overcloud)[node["name"]]["failed"] == 0
    console = overcloud.vms.console(node["name"])
    assert f"stackbox-node: hostname {node['name']}" in console, console[-3000:]
    assert {host: unit_pids(overcloud, host) for host in ROLES} == before
    hypervisors = wait_for(lambda: (lambda found: found if len(found) == 4 else None)(
        cli(overcloud, clients_venv, "hypervisor", "list", "-f", "json")), 300,
        "a fourth hypervisor")
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == \
        sorted(["oc-2", "oc-3", "oc-4", node["name"]])


@pytest.mark.slow  # it reads the node the test above provisions
def test_the_inventory_plugin_lists_the_provisioned_node(overcloud, tmp_path):
    """playbooks/inventory/stackbox_baremetal.py against the real undercloud API."""
    node = overcloud.vms.nodes[0]["name"]
    source = tmp_path / "baremetal.stackbox.yml"
    source.write_text(f"plugin: stackbox_baremetal\ncloud: stackbox\n"
                      f"clouds_yaml: {overcloud.state_dir / 'clouds.yaml'}\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--list"],
        capture_output=True, text=True, timeout=120, cwd=str(REPO),
        env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "playbooks" / "ansible.cfg")})
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert listed["compute"]["hosts"] == [node]
    assert listed["_meta"]["hostvars"][node]["ansible_host"] == "192.168.24.30"
