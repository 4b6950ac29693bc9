"""The metadata API: a guest reads who it is in the OpenStack and EC2 formats."""
import base64
import json
import uuid

import pytest

from undercloud import db
from undercloud.common import config, wsgi
from undercloud.compute.models import TABLES, Instance
from undercloud.services import SERVICES


@pytest.fixture
def client(tmp_path):
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path)})
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


def get(client, path, instance_id=None, address="127.0.0.1"):
    headers = {"X-Instance-ID": instance_id} if instance_id else {}
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": address})


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


def test_the_instance_is_found_by_its_address(client, server):
    meta = get(client, "/openstack/latest/meta_data.json", address="10.0.0.5")
    assert json.loads(meta.data)["uuid"] == server.id


def test_the_header_counts_only_from_loopback_and_unknown_callers_get_404(client, server):
    assert get(client, "/openstack/latest/meta_data.json", server.id,
               address="10.9.9.9").status_code == 404
    assert get(client, "/openstack/latest/meta_data.json", "nope").status_code == 404
    assert get(client, "/openstack/1999-01-01/meta_data.json", server.id).status_code == 404
