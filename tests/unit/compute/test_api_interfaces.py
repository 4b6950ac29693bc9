"""os-interface: a server's ports listed, attached (a call to its host) and detached (a cast)."""
import pytest

from tests.unit.compute.conftest import place
from undercloud.compute.models import Instance
from undercloud.network.rpcapi import NetworkRequestConflict, NetworkRequestNotFound

NET = "6e6b6a36-2c8b-4c4c-9a36-5a8c3e0f6a11"
PORT = "0a3b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
VIF = {"port_id": PORT, "network_id": NET, "network_name": "private",
       "mac_address": "fa:16:3e:00:00:05", "status": "ACTIVE", "tag": "data",
       "fixed_ips": [{"ip_address": "10.0.0.5", "subnet_id": "s1", "version": 4}]}


@pytest.fixture
def server(alice):
    server = alice.boot()
    place(server["id"], network_info=[VIF])
    return server


def test_list_and_show_come_from_the_network_with_the_tag_kept(alice, server, network):
    network.vifs[server["id"]] = [dict(VIF, tag=None)]
    listed = alice.get(f"/v2.1/servers/{server['id']}/os-interface").get_json()
    assert listed == {"interfaceAttachments": [{
        "net_id": NET, "port_id": PORT, "mac_addr": "fa:16:3e:00:00:05",
        "port_state": "ACTIVE", "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}],
        "tag": "data"}]}
    shown = alice.get(f"/v2.1/servers/{server['id']}/os-interface/{PORT}")
    assert shown.get_json()["interfaceAttachment"]["port_id"] == PORT
    missing = alice.get(f"/v2.1/servers/{server['id']}/os-interface/nope")
    assert missing.status_code == 404


def test_attach_calls_the_host_and_answers_the_new_port(alice, server, casts, answers):
    answers["attach_interface"] = VIF
    response = alice.post(f"/v2.1/servers/{server['id']}/os-interface",
                          json={"interfaceAttachment": {"net_id": NET, "fixed_ips": [
                              {"ip_address": "10.0.0.5"}], "tag": "data"}})
    assert response.status_code == 200
    assert response.get_json()["interfaceAttachment"]["mac_addr"] == "fa:16:3e:00:00:05"
    method, args, kwargs = casts[-1]
    assert (method, args[1], kwargs) == ("attach_interface", "host1", {
        "network_id": NET, "port_id": None, "fixed_ip": "10.0.0.5", "tag": "data"})


@pytest.mark.parametrize("body, code, message", [
    ({"interfaceAttachment": {"net_id": NET, "port_id": PORT}}, 400, "both"),
    ({"interfaceAttachment": {"fixed_ips": [{"ip_address": "10.0.0.5"}]}}, 400,
     "network_id when request IP address"),
    ({"interfaceAttachment": {"net_id": "nope"}}, 400, "net_id"),
])
def test_bad_attach_requests_are_400(alice, server, body, code, message):
    response = alice.post(f"/v2.1/servers/{server['id']}/os-interface", json=body)
    assert response.status_code == code and message in response.get_data(as_text=True)


@pytest.mark.parametrize("error, code", [(NetworkRequestNotFound, 404),
                                         (NetworkRequestConflict, 409)])
def test_the_networks_refusal_reaches_the_user(alice, server, monkeypatch, error, code):
    def refuse(*args, **kwargs):
        raise error("Port 1 is still in use.")
    monkeypatch.setattr("undercloud.compute.routes.interfaces.computes",
                        lambda: type("Refusing", (), {"attach_interface": staticmethod(refuse)}))
    response = alice.post(f"/v2.1/servers/{server['id']}/os-interface",
                          json={"interfaceAttachment": {"port_id": PORT}})
    assert response.status_code == code


def test_detach_casts_and_only_attached_ports(alice, server, casts):
    assert alice.delete(f"/v2.1/servers/{server['id']}/os-interface/{NET}").status_code == 404
    assert alice.delete(f"/v2.1/servers/{server['id']}/os-interface/{PORT}").status_code == 202
    assert casts[-1][0] == "detach_interface" and casts[-1][1][3] == PORT


def test_a_busy_or_building_server_is_a_conflict(alice, bob, server):
    Instance.update(task_state="rebooting").where(Instance.id == server["id"]).execute()
    response = alice.post(f"/v2.1/servers/{server['id']}/os-interface", json={})
    assert response.status_code == 409
    assert bob.get(f"/v2.1/servers/{server['id']}/os-interface").status_code == 404
