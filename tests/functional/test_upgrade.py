"""A data dir made by the release before each service owned its tables (commit 7db5599) starts
under today's `stackbox serve`, every service on, with what it held still there and usable."""
import json
import subprocess

import pytest

from tests.fixtures import upgrade
from tests.fixtures.undercloud import start

pytestmark = [pytest.mark.functional, pytest.mark.clients]
# An API-only cloud: no agent, no hypervisor; the data is what is under test.
EXTRA = {"network": {"agent_modes": []}, "compute": {"virt_uri": "test:///default"}}


def _cli(clients_venv, undercloud):
    def run(*args):
        result = subprocess.run([str(clients_venv / "bin" / "openstack"), *args, "-f", "json"],
                                capture_output=True, text=True, timeout=120,
                                env=undercloud.client_env())
        assert result.returncode == 0, f"openstack {' '.join(args)}: {result.stderr}"
        return json.loads(result.stdout)
    return run


@pytest.fixture
def upgraded(tmp_path, clients_venv, request):
    dump, database = request.param
    data_dir = tmp_path / dump
    extra = dict(EXTRA)
    if database == "postgresql":
        url = request.getfixturevalue("postgres_db_url")
        upgrade.restore_postgres(dump, url, data_dir)
        extra["database"] = {"url": url}
    else:
        upgrade.restore_sqlite(dump, data_dir)
    undercloud = start(data_dir, None, extra)
    yield _cli(clients_venv, undercloud)
    undercloud.stop()


@pytest.mark.parametrize("upgraded", [("sqlite-all", "sqlite"),
                                      pytest.param(("pg-network", "postgresql"),
                                                   marks=pytest.mark.postgres)],
                         indirect=True, ids=["sqlite", "postgresql"])
def test_networks_and_ports_made_before_are_kept_and_more_can_be_made(upgraded):
    cli = upgraded
    assert [n["Name"] for n in cli("network", "list")] == ["n1"]
    before = {p["ID"] for p in cli("port", "list", "--network", "n1")}
    assert before
    assert cli("router", "show", "r1")["name"] == "r1"
    assert "alice" in {u["Name"] for u in cli("user", "list")}

    made = [cli("port", "create", "--network", "n1", name)["id"] for name in ("", "", "p9")]

    assert before | set(made) == {p["ID"] for p in cli("port", "list", "--network", "n1")}
    node = cli("baremetal", "node", "create", "--driver", "ipmi", "--name", "bm9")["uuid"]
    cli("baremetal", "port", "create", "52:54:00:00:99:01", "--node", node)
    cli("baremetal", "port", "create", "52:54:00:00:99:02", "--node", node)
    assert len(cli("baremetal", "port", "list", "--node", node)) == 2


@pytest.mark.parametrize("upgraded", [("sqlite-baremetal-then-all", "sqlite"),
                                      pytest.param(("pg-baremetal", "postgresql"),
                                                   marks=pytest.mark.postgres)],
                         indirect=True, ids=["sqlite", "postgresql"])
def test_nodes_and_their_ports_made_before_are_kept_beside_network_ports(upgraded):
    cli = upgraded
    bm0 = cli("baremetal", "node", "show", "bm0")
    assert "52:54:00:aa:bb:01" in {p["address"] for p in
                                   cli("baremetal", "port", "list", "--node", bm0["uuid"])}

    network = cli("network", "create", "n9")["id"]
    cli("port", "create", "--network", network, "q1")
    cli("port", "create", "--network", network, "q2")
    cli("baremetal", "port", "create", "52:54:00:00:99:03", "--node", "bm0")

    assert len(cli("port", "list", "--network", network)) == 2
    assert len(cli("baremetal", "port", "list", "--node", bm0["uuid"])) >= 2
