"""The bare metal API as an operator uses it: the real `openstack baremetal` CLI
(python-ironicclient) and openstacksdk against a real `stackbox serve` with identity, image and
baremetal. No BMC answers here: tests that need the conductor to reach hardware live in
tests/lab/."""
import secrets
import time

import pytest

from tests.fixtures.baremetal_lab import baremetal_settings, free_network, suffix
from tests.fixtures.ports import free_port
from tests.fixtures.undercloud import openstack_cli, record_answer, start

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
    """Every CLI output and SDK answer of the module, checked for the password at the end."""
    return []


@pytest.fixture(scope="module")
def cli(undercloud, clients_venv, outputs):
    """`openstack baremetal ...`, the real CLI (see openstack_cli)."""
    openstack = openstack_cli(clients_venv, undercloud, timeout=180, outputs=outputs)
    return lambda *args, **options: openstack("baremetal", *args, **options)


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def _mac() -> str:
    return "52:54:00:" + ":".join(secrets.token_hex(1) for _ in range(3))


DRIVER_INFO = {"ipmi_address": "127.0.0.1", "ipmi_port": 6230, "ipmi_username": "admin",
               "ipmi_password": PASSWORD}


@pytest.fixture
def new_node(sdk, outputs):
    """new_node(prefix, bmc_port): a node made with the SDK, as `openstack baremetal node
    create` makes it (what the test then does is the CLI's); deleted after the test."""
    made = []

    def make(prefix: str, bmc_port: int = 6230):
        made.append(record_answer(outputs, sdk.baremetal.create_node(
            driver="ipmi", name=_name(prefix), driver_info={**DRIVER_INFO, "ipmi_port": bmc_port},
            properties={"cpus": 2, "memory_mb": 2048})))
        return made[-1]
    yield make
    for node in made:
        sdk.baremetal.delete_node(node, ignore_missing=True)


def test_node_create_show_list_set_unset(cli):
    name = _name("bm")
    node = cli("node", "create", "--driver", "ipmi", "--name", name,
               "--driver-info", "ipmi_address=127.0.0.1", "--driver-info", "ipmi_port=6230",
               "--driver-info", "ipmi_username=admin",
               "--driver-info", f"ipmi_password={PASSWORD}",
               "--property", "cpus=2", "--property", "memory_mb=2048")
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


def test_ports_create_list_delete_and_bad_macs(cli, new_node):
    node = new_node("bm-ports")
    mac = _mac()
    port = cli("port", "create", mac.upper(), "--node", node.id)
    assert port["address"] == mac and port["pxe_enabled"] is True
    listed = cli("port", "list", "--node", node.id)
    assert [row["address"] for row in listed] == [mac]
    duplicate = cli("port", "create", mac, "--node", node.id, check=False)
    assert duplicate.returncode != 0
    assert f"A port with MAC address {mac} already exists." in duplicate.stderr
    bad = cli("port", "create", "52:54:00:zz", "--node", node.id, check=False)
    assert bad.returncode != 0 and "Expected a MAC address" in bad.stderr
    cli("port", "delete", port["uuid"])
    assert cli("port", "list", "--node", node.id) == []


def test_maintenance_set_and_unset(cli, new_node, sdk):
    name = new_node("bm-maint").name
    cli("node", "maintenance", "set", name, "--reason", "replacing a disk")
    shown = sdk.baremetal.get_node(name)
    assert shown.is_maintenance is True and shown.maintenance_reason == "replacing a disk"
    cli("node", "maintenance", "unset", name)
    shown = sdk.baremetal.get_node(name)
    assert shown.is_maintenance is False and shown.maintenance_reason is None


def test_bad_inputs_get_ironics_answers(cli, new_node):
    unknown = cli("node", "create", "--driver", "redfish", check=False)
    assert unknown.returncode != 0
    assert "redfish" in unknown.stderr and "Enabled drivers: ipmi" in unknown.stderr
    node = new_node("bm-verbs")
    name = node.name
    started = time.monotonic()
    wrong = cli("node", "provide", name, check=False)
    assert wrong.returncode != 0
    assert (f"The requested action \"provide\" can not be performed on node "
            f"\"{node.id}\" while it is in state \"enroll\"") in wrong.stderr
    # A 400 is final: the client does not sit through its 409 retries.
    assert time.monotonic() - started < 60
    missing = cli("node", "show", "no-such-node", check=False)
    assert missing.returncode != 0 and "Node no-such-node could not be found." in missing.stderr
    deploy = cli("node", "set", name, "--instance-info", "image_source=x", check=False)
    assert deploy.returncode == 0


def test_validate_answers_per_interface(cli, new_node):
    """Needs a running conductor; it answers for each interface even with no BMC there."""
    if "BaremetalConductor" not in _conductor_module():
        pytest.skip("undercloud/baremetal/conductor.py is not there yet")
    name = new_node("bm-validate").name
    rows = {row["Interface"]: row for row in cli("node", "validate", name)}
    assert {"power", "management", "deploy", "boot"} <= set(rows)


def _conductor_module() -> str:
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "undercloud" / "baremetal" / "conductor.py"
    return path.read_text() if path.exists() else ""


def test_manage_with_a_silent_bmc_returns_to_enroll_with_last_error(cli, new_node, sdk,
                                                                   outputs):
    """The conductor takes the cast: verifying a BMC nobody answers ends back in enroll."""
    node = new_node("bm-silent", bmc_port=free_port())
    cli("node", "manage", node.name)
    shown = sdk.baremetal.get_node(node.id)
    deadline = time.monotonic() + 120
    while shown.provision_state != "enroll" or shown.target_provision_state:
        assert time.monotonic() < deadline, f"still {shown.provision_state}"
        time.sleep(1)
        shown = record_answer(outputs, sdk.baremetal.get_node(node.id))
    assert f"Failed to validate power driver interface for node {node.id}" in \
        shown.last_error
    assert "did not answer" in shown.last_error


def test_openstacksdk_baremetal_proxy(sdk, outputs):
    name = _name("bm-sdk")
    node = sdk.baremetal.create_node(driver="ipmi", name=name,
                                     driver_info={"ipmi_address": "127.0.0.1",
                                                  "ipmi_password": PASSWORD})
    port = sdk.baremetal.create_port(node_id=node.id, address="52:54:00:5d:4b:01")
    sdk.baremetal.set_node_maintenance(node, reason="sdk")
    found = record_answer(outputs, sdk.baremetal.get_node(name))
    names = [n.name for n in sdk.baremetal.nodes(details=True)]
    ports = [p.address for p in sdk.baremetal.ports(node=node.id)]
    sdk.baremetal.unset_node_maintenance(node)
    sdk.baremetal.delete_port(port)
    sdk.baremetal.delete_node(node)
    assert (found.provision_state, found.is_maintenance, found.driver_info["ipmi_password"],
            ports) == ("enroll", True, "******", ["52:54:00:5d:4b:01"])
    assert name in names


def test_the_password_never_leaks(undercloud, outputs):
    """Runs last: no CLI output and no log file holds the BMC password."""
    assert outputs, "the other tests ran no command"
    assert not [output for output in outputs if PASSWORD in output]
    leaks = [path for path in undercloud.data_dir.rglob("*")
             if path.is_file() and path.suffix in (".log", ".out")
             and PASSWORD in path.read_text(errors="replace")]
    assert leaks == []
