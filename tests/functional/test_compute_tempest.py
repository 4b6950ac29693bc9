"""The real tempest's compute interop tests that need neither networks nor volumes pass against
an identity + image + compute undercloud whose compute host drives libvirt's test:///default."""
import json
import subprocess
import sys

import pytest

from tests.fixtures import tempest
from tests.fixtures.undercloud import REPO

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(3600)]

SERVICES = ["identity", "image", "compute", "metadata"]
# A fake host big enough for tempest's parallel servers; test:///default runs no guest.
COMPUTE = {"virt_uri": "test:///default", "host_memory_mb": 65536, "host_vcpus": 64,
           "host_disk_gb": 1000, "quota_instances": 50, "quota_cores": 100,
           "quota_ram": 102400}
# Tests (by name part) that need a network service or a volume service: security groups and
# volumes are those services' APIs, and the ip filters need servers with addresses.
NEEDS_NETWORK_OR_VOLUME = ("security_groups", "volumes.", "filtered_by_ip",
                           "test_attach_volume")
# Asks tempest itself which test classes make a network for their servers
# (create_default_network: tempest skips them with "Neutron is not available").
_NEEDS_NETWORK = """
import importlib, json, sys
found = {}
for name in json.load(sys.stdin):
    module, cls, _ = name.split("[", 1)[0].rsplit(".", 2)
    test_class = getattr(importlib.import_module(module), cls)
    found[name] = bool(getattr(test_class, "create_default_network", False))
print()
print(json.dumps(found))
"""
FEATURES = {"compute-feature-enabled": {
    "resize": True, "pause": True, "suspend": True, "snapshot": True, "console_output": True,
    "config_drive": True, "metadata_service": True, "shelve": False, "rescue": False,
    "change_password": False, "interface_attach": False, "live_migration": False,
    "cold_migration": False, "vnc_console": False, "spice_console": False,
    "serial_console": False, "personality": False, "disk_config": False,
    "swap_volume": False, "volume_multiattach": False, "block_migrate_cinder_iscsi": False,
    "attach_encrypted_volume": False, "scheduler_enabled_filters":
    "ComputeFilter,AvailabilityZoneFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,"
    "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,RamFilter,DiskFilter"}}


def compute_tests(clients_venv) -> list[str]:
    """The compute must-pass tests this cloud can run: no network or volume service needed."""
    names = [name for name in tempest.interop_tests("compute")
             if not any(part in name for part in NEEDS_NETWORK_OR_VOLUME)]
    result = subprocess.run([str(clients_venv / "bin" / "python"), "-c", _NEEDS_NETWORK],
                            input=json.dumps(names), capture_output=True, text=True,
                            timeout=300, check=True)
    needs_network = json.loads(result.stdout.strip().splitlines()[-1])  # after import noise
    return [name for name in names if not needs_network[name]]


def _build_tiny_guest(folder) -> str:
    result = subprocess.run([sys.executable, str(REPO / "images" / "tiny-guest" / "build"),
                             "--output", str(folder), "--quiet"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return str(folder / "tiny-guest.qcow2")


def _openstack(clients_venv, undercloud, *args):
    result = subprocess.run([str(clients_venv / "bin" / "openstack"), *args, "-f", "json"],
                            capture_output=True, text=True, timeout=300,
                            env=undercloud.client_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compute_interop_must_pass_tests_pass(start_undercloud, clients_venv, tmp_path):
    undercloud = start_undercloud(services=SERVICES, extra={
        "identity": tempest.TEMPEST_COMPLIANCE, "compute": COMPUTE})
    guest = _build_tiny_guest(tmp_path / "guest")
    # Two images, so the image filters have something to tell apart.
    image, image_alt = [_openstack(clients_venv, undercloud, "image", "create", "--public",
                                   "--disk-format", "qcow2", "--container-format", "bare",
                                   "--file", guest, name)["id"] for name in ("tiny", "tiny-alt")]
    wanted = compute_tests(clients_venv)
    assert len(wanted) >= 20, wanted
    overrides = {**FEATURES, "compute": {
        "image_ref": image, "image_ref_alt": image_alt, "flavor_ref": "0",
        "flavor_ref_alt": "42", "min_microversion": "2.1", "max_microversion": "2.79",
        "build_timeout": "120", "min_compute_nodes": "1"}}

    results = tempest.run(undercloud, clients_venv, include=tempest.include_regexes(wanted),
                          available=("identity", "image", "compute"), overrides=overrides,
                          concurrency=4)

    outcome = {name: results.status(name) for name in wanted}
    passed = [name for name, status in outcome.items() if status == "success"]
    # Tests that SSH into the guest skip: that needs a network to the guest.
    needs_ssh = [name for name, status in outcome.items()
                 if status == "skip" and "validation" in _skip_reason(results, name)]
    print(f"compute interop: {len(passed)} of {len(wanted)} passed, {len(needs_ssh)} skipped "
          f"(they SSH into the guest); {results.totals()}")
    not_passed = {name: status for name, status in outcome.items()
                  if status != "success" and name not in needs_ssh}
    assert not not_passed and not results.failed, (
        f"tempest compute interop tests: {len(passed)} of {len(wanted)} passed:\n"
        + "\n".join(f"  {status:8} {name}" for name, status in not_passed.items())
        + "\n" + results.report() + f"\nrun log: {results.run_log}")


def _skip_reason(results, name: str) -> str:
    for test_id, result in results.tests.items():
        if test_id.split("[", 1)[0] == name.split("[", 1)[0]:
            return result["details"].get("reason", "")
    return ""
