"""A data plane whose agent runs none of the kernel modes touches nothing (as any user)."""
from undercloud.common import config as configuration
from undercloud.network.drivers.dataplane import DataPlane, top_chain

STATE = {"networks": [{"id": "net-1", "network_type": "vxlan", "physical_network": None,
                       "segmentation_id": 7, "mtu": 1450, "bridge": "brqnet-1",
                       "vxlan_peers": []}],
         "ports": [], "security_groups": {}, "dhcp": [], "routers": []}


def test_without_modes_nothing_is_made_or_recorded(tmp_path):
    config = configuration.load(environ={}, overrides={"data_dir": str(tmp_path)})
    dataplane = DataPlane(config)
    outcome = dataplane.apply(STATE, modes=[])
    assert outcome.counts["networks"] == 0 and not outcome.failed
    assert dataplane.ledger.empty()
    dataplane.teardown()


def test_each_data_folder_has_its_own_agent_chain(tmp_path):
    one = configuration.load(environ={}, overrides={"data_dir": str(tmp_path / "one")})
    two = configuration.load(environ={}, overrides={"data_dir": str(tmp_path / "two")})
    assert top_chain(one) != top_chain(two)
    assert top_chain(one).startswith("sbx-") and len(top_chain(one)) <= 28
