"""The metadata API: a guest, named by the network's metadata proxy, reads who it is in the
OpenStack and EC2 formats."""
import base64
import hashlib
import hmac
import json
import os
import uuid

import pytest

from undercloud import db
from undercloud.common import config, wsgi
from undercloud.common.secrets import metadata_secret_file
from undercloud.compute.models import TABLES, Instance
from undercloud.services import SERVICES

SECRET = b"shared-by-proxy-and-compute"


@pytest.fixture
def client(tmp_path):
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path)})
    os.makedirs(os.path.dirname(metadata_secret_file(cfg)))
    with open(metadata_secret_file(cfg), "wb") as stream:
        stream.write(SECRET)
    db.connect(cfg)
    db.database.create_tables(TABLES)
    app = wsgi.create_app(cfg, SERVICES["metadata"])
    yield app.test_client()
    db.database.close()


@pytest.fixture
def server():
    return Instance.create(
        id=str(uuid.uuid4()), display_name="web 1", project_id="p", user_id="u",
        flavor={"name": "m1.tiny"}, reservation_id="r-1", hostname="web-1", key_name="k1",
        key_data="ssh-ed25519 AAAA k1", metadata={"role": "web"},
        user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
        addresses={"private": [{"addr": "10.0.0.5", "version": 4}]})


def signed(instance_id, project_id="p", key=SECRET) -> dict:
    """The headers the metadata proxy adds (Neutron's)."""
    return {"X-Instance-ID": instance_id, "X-Tenant-ID": project_id,
            "X-Instance-ID-Signature": hmac.new(key, instance_id.encode(),
                                                hashlib.sha256).hexdigest()}


def get(client, path, instance_id=None, headers=None):
    headers = headers if headers is not None else signed(instance_id) if instance_id else {}
    return client.get(path, headers=headers)


def test_openstack_format(client, server):
    meta = json.loads(get(client, "/openstack/latest/meta_data.json", server.id).data)
    assert meta["uuid"] == server.id and meta["hostname"] == "web-1"
    assert meta["public_keys"] == {"k1": "ssh-ed25519 AAAA k1"}
    assert meta["meta"] == {"role": "web"}
    assert get(client, "/openstack/latest/user_data", server.id).data == b"#!/bin/sh\necho hi\n"
    assert json.loads(get(client, "/openstack/2018-08-27/network_data.json", server.id).data)
    assert "2012-08-10" in get(client, "/openstack").text
    assert get(client, "/").status_code == 200


def test_ec2_format(client, server):
    assert get(client, "/latest/meta-data/hostname", server.id).text == "web-1"
    assert get(client, "/2009-04-04/meta-data/public-keys/0/openssh-key",
               server.id).text == "ssh-ed25519 AAAA k1"
    assert get(client, "/latest/user-data", server.id).data.startswith(b"#!")
    assert "placement/" in get(client, "/latest/meta-data/", server.id).text.split()


def test_the_network_data_describes_the_ports(client, server):
    Instance.update(network_info=[{
        "port_id": "port-1", "network_id": "net-1", "network_name": "private",
        "mac_address": "fa:16:3e:00:00:05", "bridge": "brq1", "tap": "tapport-1", "mtu": 1450,
        "vif_type": "bridge", "fixed_ips": [{
            "ip_address": "10.0.0.5", "version": 4, "cidr": "10.0.0.0/24",
            "gateway_ip": "10.0.0.1", "dns_nameservers": ["10.9.9.9"], "host_routes": []}]}]) \
        .where(Instance.id == server.id).execute()
    document = json.loads(get(client, "/openstack/latest/network_data.json", server.id).data)
    assert document["links"] == [{"id": "tapport-1", "vif_id": "port-1", "type": "bridge",
                                  "mtu": 1450, "ethernet_mac_address": "fa:16:3e:00:00:05"}]
    network, = document["networks"]
    assert (network["type"], network["ip_address"], network["netmask"]) == \
        ("ipv4", "10.0.0.5", "255.255.255.0")
    assert network["routes"] == [{"network": "0.0.0.0", "netmask": "0.0.0.0",
                                  "gateway": "10.0.0.1"}]
    assert document["services"] == [{"type": "dns", "address": "10.9.9.9"}]


@pytest.mark.parametrize("headers, code", [
    ({}, 400),                                                        # not through the proxy
    ({"X-Instance-ID": "x", "X-Tenant-ID": "p"}, 403),                 # unsigned
    (lambda server: signed(server.id, key=b"guessed"), 403),          # signed with another key
    (lambda server: {**signed(server.id), "X-Instance-ID-Signature": "é"}, 403),
    (lambda server: signed(server.id, project_id="other"), 404),      # not the project's
    (lambda server: signed(str(uuid.uuid4())), 404),                  # no such instance
])
def test_only_the_proxys_signed_requests_are_answered(client, server, headers, code):
    headers = headers(server) if callable(headers) else headers
    assert get(client, "/openstack/latest/meta_data.json", headers=headers).status_code == code


def test_an_unknown_version_is_404(client, server):
    assert get(client, "/openstack/1999-01-01/meta_data.json", server.id).status_code == 404
