"""The bare metal API as an operator uses it: the real `openstack baremetal` CLI
(python-ironicclient) and openstacksdk against a real `stackbox serve` with identity, image and
baremetal. No BMC answers here: tests that need the conductor to reach hardware live in
tests/lab/."""
import json
import secrets
import subprocess
import textwrap
import time

import pytest

from tests.fixtures.baremetal_lab import baremetal_settings, free_network, suffix
from tests.fixtures.ports import free_port
from tests.fixtures.undercloud import start

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(900)]

# Unique to this run, so finding it anywhere means it leaked.
PASSWORD = f"bmc-{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    """The conductor's provisioning network gets a bridge and subnet of its own; BMCs that do
    not answer fail fast."""
    settings = baremetal_settings(f"bmapi{suffix()}", free_network(), ipmi_timeout=1,
                                  ipmi_retries=0)
    serve = start(tmp_path_factory.mktemp("undercloud"), ["identity", "image", "baremetal"],
                  {"baremetal": settings})
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def outputs():
    """Every CLI output of the module, checked for the password at the end."""
    return []


@pytest.fixture
def cli(undercloud, clients_venv, outputs):
    """Run `openstack baremetal ...`: parsed JSON for list/show/create, else the output;
    check=False returns the CompletedProcess."""
    def run(*args, check=True):
        command = [str(clients_venv / "bin" / "openstack"), "baremetal", *args]
        if {"list", "show", "create", "validate"} & set(args[:2]) and "-f" not in args:
            command += ["-f", "json"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=180,
                                env=undercloud.client_env())
        outputs.append(result.stdout + result.stderr)
        if not check:
            return result
        assert result.returncode == 0, f"openstack baremetal {' '.join(args)}:\n{result.stderr}"
        output = result.stdout.strip()
        return json.loads(output) if output.startswith(("[", "{")) else output
    return run


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def _mac() -> str:
    return "52:54:00:" + ":".join(secrets.token_hex(1) for _ in range(3))


def _create(cli, name: str, bmc_port: int = 6230) -> dict:
    return cli("node", "create", "--driver", "ipmi", "--name", name,
               "--driver-info", "ipmi_address=127.0.0.1",
               "--driver-info", f"ipmi_port={bmc_port}",
               "--driver-info", "ipmi_username=admin",
               "--driver-info", f"ipmi_password={PASSWORD}",
               "--property", "cpus=2", "--property", "memory_mb=2048")


def test_node_create_show_list_set_unset(cli):
    name = _name("bm")
    node = _create(cli, name)
    assert node["driver_info"]["ipmi_password"] == "******"
    assert node["provision_state"] == "enroll" and node["driver"] == "ipmi"
    shown = cli("node", "show", name)
    assert shown["uuid"] == node["uuid"]
    assert shown["driver_info"] == {"ipmi_address": "127.0.0.1", "ipmi_port": 6230,
                                    "ipmi_username": "admin", "ipmi_password": "******"}
    assert shown["boot_interface"] == "ipxe" and shown["power_interface"] == "ipmitool"
    listed = {row["name"]: row for row in cli("node", "list")}
    assert listed[name]["provision_state"] == "enroll"
    assert listed[name]["maintenance"] is False
    cli("node", "set", name, "--property", "capabilities=profile:compute,boot_mode:bios",
        "--property", "local_gb=10", "--resource-class", "baremetal")
    properties = cli("node", "show", name)["properties"]
    assert properties["capabilities"] == "profile:compute,boot_mode:bios"
    assert str(properties["local_gb"]) == "10"
    cli("node", "unset", name, "--property", "local_gb")
    shown = cli("node", "show", name)
    assert "local_gb" not in shown["properties"] and shown["resource_class"] == "baremetal"
    long = {row["name"]: row for row in cli("node", "list", "--long")}
    assert long[name]["driver_info"]["ipmi_password"] == "******"
    cli("node", "delete", name)
    assert name not in {row["name"] for row in cli("node", "list")}


def test_ports_create_list_delete_and_bad_macs(cli):
    node = _create(cli, _name("bm-ports"))
    mac = _mac()
    port = cli("port", "create", mac.upper(), "--node", node["uuid"])
    assert port["address"] == mac and port["pxe_enabled"] is True
    listed = cli("port", "list", "--node", node["uuid"])
    assert [row["address"] for row in listed] == [mac]
    duplicate = cli("port", "create", mac, "--node", node["uuid"], check=False)
    assert duplicate.returncode != 0
    assert f"A port with MAC address {mac} already exists." in duplicate.stderr
    bad = cli("port", "create", "52:54:00:zz", "--node", node["uuid"], check=False)
    assert bad.returncode != 0 and "Expected a MAC address" in bad.stderr
    cli("port", "delete", port["uuid"])
    assert cli("port", "list", "--node", node["uuid"]) == []
    cli("node", "delete", node["uuid"])


def test_maintenance_set_and_unset(cli):
    name = _name("bm-maint")
    _create(cli, name)
    cli("node", "maintenance", "set", name, "--reason", "replacing a disk")
    shown = cli("node", "show", name)
    assert shown["maintenance"] is True and shown["maintenance_reason"] == "replacing a disk"
    cli("node", "maintenance", "unset", name)
    shown = cli("node", "show", name)
    assert shown["maintenance"] is False and shown["maintenance_reason"] is None
    cli("node", "delete", name)


def test_bad_inputs_get_ironics_answers(cli):
    unknown = cli("node", "create", "--driver", "redfish", check=False)
    assert unknown.returncode != 0
    assert "redfish" in unknown.stderr and "Enabled drivers: ipmi" in unknown.stderr
    name = _name("bm-verbs")
    node = _create(cli, name)
    started = time.monotonic()
    wrong = cli("node", "provide", name, check=False)
    assert wrong.returncode != 0
    assert (f"The requested action \"provide\" can not be performed on node "
            f"\"{node['uuid']}\" while it is in state \"enroll\"") in wrong.stderr
    # A 400 is final: the client does not sit through its 409 retries.
    assert time.monotonic() - started < 60
    missing = cli("node", "show", "no-such-node", check=False)
    assert missing.returncode != 0 and "Node no-such-node could not be found." in missing.stderr
    deploy = cli("node", "set", name, "--instance-info", "image_source=x", check=False)
    assert deploy.returncode == 0
    cli("node", "delete", name)


def test_validate_answers_per_interface(cli, undercloud):
    """Needs a running conductor; it answers for each interface even with no BMC there."""
    if "BaremetalConductor" not in _conductor_module():
        pytest.skip("undercloud/baremetal/conductor.py is not there yet")
    name = _name("bm-validate")
    _create(cli, name)
    rows = {row["Interface"]: row for row in cli("node", "validate", name)}
    assert {"power", "management", "deploy", "boot"} <= set(rows)
    cli("node", "delete", name)


def _conductor_module() -> str:
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "undercloud" / "baremetal" / "conductor.py"
    return path.read_text() if path.exists() else ""


def test_manage_with_a_silent_bmc_returns_to_enroll_with_last_error(cli):
    """The conductor takes the cast: verifying a BMC nobody answers ends back in enroll."""
    name = _name("bm-silent")
    node = _create(cli, name, bmc_port=free_port())
    cli("node", "manage", name)
    shown = cli("node", "show", name)
    deadline = time.monotonic() + 120
    while shown["provision_state"] != "enroll" or shown["target_provision_state"]:
        assert time.monotonic() < deadline, f"still {shown['provision_state']}"
        time.sleep(1)
        shown = cli("node", "show", name)
    assert f"Failed to validate power driver interface for node {node['uuid']}" in \
        shown["last_error"]
    assert "did not answer" in shown["last_error"]
    cli("node", "delete", name)


def test_openstacksdk_baremetal_proxy(undercloud, clients_venv, outputs):
    name = _name("bm-sdk")
    script = textwrap.dedent(f"""
        import json, openstack
        conn = openstack.connect()
        node = conn.baremetal.create_node(driver="ipmi", name={name!r},
                                          driver_info={{"ipmi_address": "127.0.0.1",
                                                        "ipmi_password": {PASSWORD!r}}})
        port = conn.baremetal.create_port(node_id=node.id, address="52:54:00:5d:4b:01")
        conn.baremetal.set_node_maintenance(node, reason="sdk")
        found = conn.baremetal.get_node({name!r})
        names = [n.name for n in conn.baremetal.nodes(details=True)]
        ports = [p.address for p in conn.baremetal.ports(node=node.id)]
        conn.baremetal.unset_node_maintenance(node)
        conn.baremetal.delete_port(port)
        conn.baremetal.delete_node(node)
        print(json.dumps({{"state": found.provision_state, "maintenance": found.is_maintenance,
                          "password": found.driver_info["ipmi_password"], "names": names,
                          "ports": ports}}))
    """)
    result = subprocess.run([str(clients_venv / "bin" / "python"), "-c", script],
                            capture_output=True, text=True, timeout=180,
                            env=undercloud.client_env())
    outputs.append(result.stdout + result.stderr)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"state": "enroll", "maintenance": True, "password": "******",
                      "names": [*answer["names"]], "ports": ["52:54:00:5d:4b:01"]}
    assert name in answer["names"]


def test_the_password_never_leaks(undercloud, outputs):
    """Runs last: no CLI output and no log file holds the BMC password."""
    assert outputs, "the other tests ran no command"
    assert not [output for output in outputs if PASSWORD in output]
    leaks = [path for path in undercloud.data_dir.rglob("*")
             if path.is_file() and path.suffix in (".log", ".out")
             and PASSWORD in path.read_text(errors="replace")]
    assert leaks == []
