"""os-security-groups before 2.36, a server's groups and add/removeSecurityGroup: Nova's proxy
of the network service's groups (faked here as Neutron answers), in Nova's view and codes."""
import uuid

import pytest

from tests.unit.compute.conftest import place
from undercloud.compute import neutron
from undercloud.client.http import ApiError

PROXY = "/v2.1/os-security-groups"


class FakeNeutron:
    """Neutron's groups and ports as the caller (token "user:project:roles") sees them."""

    def __init__(self):
        self.groups, self.ports, self.in_use = {}, {}, set()

    def add_group(self, project, name, rules=()):
        group_id = str(uuid.uuid4())
        self.groups[group_id] = {"id": group_id, "name": name, "description": "",
                                 "tenant_id": project, "security_group_rules": [
                                     {"id": str(uuid.uuid4()), "security_group_id": group_id,
                                      "direction": "egress", "protocol": None,
                                      "port_range_min": None, "port_range_max": None,
                                      "remote_ip_prefix": None, "remote_group_id": None},
                                     *[{"security_group_id": group_id, **r} for r in rules]]}
        return group_id

    def _visible(self, token, group_id):
        group = self.groups.get(group_id)
        if group is None or group["tenant_id"] != token.split(":")[1]:
            raise ApiError(404, "GET .../security-groups/x: HTTP 404: no such group", "no such group")
        return group

    def install(self, monkeypatch):
        def listing(config, token, **filters):
            wanted = {k: v if isinstance(v, list) else [v] for k, v in filters.items()}
            return [g for g in self.groups.values() if g["tenant_id"] == token.split(":")[1]
                    and all(g[k] in v for k, v in wanted.items())]

        def create(config, token, name, description):
            group = self.groups[self.add_group(token.split(":")[1], name)]
            group["description"] = description
            return group

        def update(config, token, group_id, name, description):
            group = self._visible(token, group_id)
            group.update(name=name, description=description)
            return group

        def delete(config, token, group_id):
            group = self._visible(token, group_id)
            if group_id in self.in_use or group["name"] == "default":
                raise ApiError(409, "DELETE .../security-groups/x: HTTP 409: in use", "in use")
            del self.groups[group_id]

        def set_groups(config, token, port_id, group_ids):
            self.ports[port_id]["security_groups"] = group_ids

        for name, function in (("security_groups", listing), ("create_security_group", create),
                               ("update_security_group", update),
                               ("delete_security_group", delete),
                               ("set_port_security_groups", set_groups)):
            monkeypatch.setattr(neutron, name, function)
        monkeypatch.setattr(neutron, "security_group",
                            lambda config, token, group_id: self._visible(token, group_id))
        monkeypatch.setattr(neutron, "server_ports", lambda config, token, server_id: [
            p for p in self.ports.values() if p["device_id"] == server_id])


@pytest.fixture
def fake(monkeypatch):
    fake = FakeNeutron()
    fake.install(monkeypatch)
    return fake


def test_groups_in_novas_view_with_only_ingress_rules(alice, fake):
    web = fake.add_group("p-alice", "web", rules=[
        {"id": "r1", "direction": "ingress", "protocol": "tcp", "port_range_min": None,
         "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None}])
    fake.add_group("p-bob", "theirs")
    old = alice.at("2.35")
    listed = old.get(PROXY).get_json()["security_groups"]
    assert [g["name"] for g in listed] == ["web"]
    assert listed[0]["rules"] == [{"id": "r1", "parent_group_id": web, "ip_protocol": "tcp",
                                   "from_port": 1, "to_port": 65535, "group": {},
                                   "ip_range": {"cidr": "0.0.0.0/0"}}]
    assert old.get(f"{PROXY}/{web}").get_json()["security_group"]["tenant_id"] == "p-alice"
    assert alice.at("2.36").get(PROXY).status_code == 404


def test_create_update_and_delete_as_nova_answers(alice, fake):
    old = alice.at("2.1")
    created = old.post(PROXY, json={"security_group": {"name": " spaced ", "description": "d"}})
    group = created.get_json()["security_group"]
    assert created.status_code == 200 and group["name"] == " spaced " and group["rules"] == []
    assert old.post(PROXY, json={"security_group": {"name": "x"}}).status_code == 400
    changed = old.put(f"{PROXY}/{group['id']}",
                      json={"security_group": {"name": "new", "description": "e"}})
    assert changed.get_json()["security_group"]["name"] == "new"
    fake.in_use.add(group["id"])
    assert old.delete(f"{PROXY}/{group['id']}").status_code == 400   # in use
    fake.in_use.clear()
    assert old.delete(f"{PROXY}/{group['id']}").status_code == 202
    assert old.delete(f"{PROXY}/{group['id']}").status_code == 404
    assert old.delete(f"{PROXY}/not-a-uuid").status_code == 400
    assert old.delete(PROXY).status_code == 404
    default = fake.add_group("p-alice", "default")
    assert old.delete(f"{PROXY}/{default}").status_code == 400


def test_add_and_remove_a_group_on_every_port_of_a_server(alice, fake):
    server = alice.boot()
    place(server["id"])
    web = fake.add_group("p-alice", "web")
    for port in ("port-1", "port-2"):
        fake.ports[port] = {"id": port, "device_id": server["id"], "security_groups": [],
                            "fixed_ips": [{"ip_address": "10.0.0.5"}],
                            "port_security_enabled": True}
    assert alice.action(server["id"], {"addSecurityGroup": {"name": "web"}}).status_code == 202
    assert all(port["security_groups"] == [web] for port in fake.ports.values())
    shown = alice.get(f"/v2.1/servers/{server['id']}/os-security-groups").get_json()
    assert [g["id"] for g in shown["security_groups"]] == [web]
    assert alice.action(server["id"], {"addSecurityGroup": {"name": "nope"}}).status_code == 404
    assert alice.action(server["id"], {"addSecurityGroup": {"name": " "}}).status_code == 400
    assert alice.action(server["id"], {"removeSecurityGroup": {"name": web}}).status_code == 202
    assert all(port["security_groups"] == [] for port in fake.ports.values())
    gone = alice.action(server["id"], {"removeSecurityGroup": {"name": "web"}})
    assert gone.status_code == 404
