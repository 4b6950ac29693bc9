"""A data dir made by the release before each service owned its tables (commit 7db5599) starts
under today's `stackbox serve`, every service on, with what it held still there and usable
(through openstacksdk in-process: the data, not a client, is under test here)."""
import pytest

from tests.fixtures import upgrade
from tests.fixtures.undercloud import connect, start

pytestmark = [pytest.mark.functional]
# An API-only cloud: no agent, no hypervisor; the data is what is under test.
EXTRA = {"network": {"agent_modes": []}, "compute": {"virt_uri": "test:///default"}}


@pytest.fixture
def upgraded(tmp_path, request):
    """An SDK connection to the serve started on the restored data dir."""
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
    with connect(undercloud) as sdk:
        yield sdk
    undercloud.stop()


@pytest.mark.parametrize("upgraded", [("sqlite-all", "sqlite"),
                                      pytest.param(("pg-network", "postgresql"),
                                                   marks=pytest.mark.postgres)],
                         indirect=True, ids=["sqlite", "postgresql"])
def test_networks_and_ports_made_before_are_kept_and_more_can_be_made(upgraded):
    sdk = upgraded
    assert [n.name for n in sdk.network.networks()] == ["n1"]
    n1 = sdk.network.find_network("n1", ignore_missing=False).id
    before = {p.id for p in sdk.network.ports(network_id=n1)}
    assert before
    assert sdk.network.find_router("r1", ignore_missing=False).name == "r1"
    assert "alice" in {u.name for u in sdk.identity.users()}

    made = [sdk.network.create_port(network_id=n1, name=name).id for name in ("", "", "p9")]

    assert before | set(made) == {p.id for p in sdk.network.ports(network_id=n1)}
    node = sdk.baremetal.create_node(driver="ipmi", name="bm9").id
    sdk.baremetal.create_port(node_id=node, address="52:54:00:00:99:01")
    sdk.baremetal.create_port(node_id=node, address="52:54:00:00:99:02")
    assert len(list(sdk.baremetal.ports(node=node))) == 2


@pytest.mark.parametrize("upgraded", [("sqlite-baremetal-then-all", "sqlite"),
                                      pytest.param(("pg-baremetal", "postgresql"),
                                                   marks=pytest.mark.postgres)],
                         indirect=True, ids=["sqlite", "postgresql"])
def test_nodes_and_their_ports_made_before_are_kept_beside_network_ports(upgraded):
    sdk = upgraded
    bm0 = sdk.baremetal.get_node("bm0")
    assert "52:54:00:aa:bb:01" in {p.address for p in sdk.baremetal.ports(node=bm0.id)}

    network = sdk.network.create_network(name="n9").id
    sdk.network.create_port(network_id=network, name="q1")
    sdk.network.create_port(network_id=network, name="q2")
    sdk.baremetal.create_port(node_id="bm0", address="52:54:00:00:99:03")   # by its name

    assert len(list(sdk.network.ports(network_id=network))) == 2
    assert len(list(sdk.baremetal.ports(node=bm0.id))) >= 2
