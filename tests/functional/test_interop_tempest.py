"""The real tempest's interop must-pass tests of every service in the catalog pass in ONE run
against ONE undercloud with every service on (the whole appliance, tests/fixtures/interop.py)."""
import os

import pytest

from tests.fixtures import interop

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(3600),
              pytest.mark.skipif(os.geteuid() != 0,
                                 reason="the network agent builds bridges and namespaces: root")]

# Each service's must-pass tests in the run. Compute: its 95 rows minus the 2 that tempest
# runs only with a volume service (AttachVolumeTestJSON), which the catalog does not have yet.
COUNTS = {"identity": 17, "image": 23, "compute": 93, "network": 82}
# The tests tempest may skip here, and why; nothing else may skip.
_SSH = "SSHes into the guest: run_validation is off (an API run, no real guests)"
SKIPS = {
    "tempest.api.compute.servers.test_create_server.ServersTestJSON."
    "test_host_name_is_same_as_server_name": _SSH,
    "tempest.api.compute.servers.test_create_server.ServersTestJSON."
    "test_verify_created_server_vcpus": _SSH,
}


@pytest.fixture
def appliance(tmp_path):
    with interop.cloud(tmp_path / "undercloud") as undercloud:
        yield undercloud


def test_every_catalog_service_passes_its_interop_tests_in_one_run(appliance, clients_venv,
                                                                    tmp_path):
    outcome = interop.run(appliance, clients_venv, tmp_path, concurrency=4)

    print(f"tempest interop ({outcome.results.totals()}):\n{outcome.summary()}")
    assert {service: len(tests) for service, tests in outcome.plan.items()} == COUNTS, \
        outcome.summary()
    assert all(needs == ["volume"] for needs in outcome.left_out.values()), outcome.summary()
    unexpected = outcome.unexpected(SKIPS)
    assert not unexpected and not outcome.results.failed, (
        outcome.summary() + "\n"
        + "\n".join(f"  {status:8} {name}" for name, status in unexpected.items())
        + "\n" + outcome.results.report() + f"\nrun log: {outcome.results.run_log}")
