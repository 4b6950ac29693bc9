"""The config drive ISO, read back with xorriso (never mounted)."""
import json
import os
import shutil

import pytest

from tests.fixtures.iso import extract

from undercloud.compute import configdrive
from undercloud.compute.configdrive import ConfigDrive, ConfigDriveError, Keypair

needs_xorriso = pytest.mark.skipif(shutil.which("xorriso") is None,
                                   reason="xorriso is not installed (Debian package xorriso)")
SECTOR = 2048
USER_DATA = b"#!/bin/sh\necho 'stackbox-marker'\n\xff\x00binary tail"


@pytest.fixture
def drive():
    return ConfigDrive(
        uuid="5a1d3c47-0d33-4a0a-9d1c-2f8a3f0c6e11", name="Web Server 1", project_id="p-1",
        availability_zone="zone-a", launch_index=2,
        keys=[Keypair("laptop", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE me@laptop\n")],
        meta={"role": "web"}, user_data=USER_DATA,
        network_data={"links": [{"id": "tap1", "ethernet_mac_address": "fa:16:3e:00:00:01"}],
                      "networks": [], "services": []},
        vendor_data={"static": {"motd": "hi"}}, flavor_name="m1.tiny")


@needs_xorriso
def test_the_drive_is_an_iso_labelled_config_2_with_joliet_and_rock_ridge(drive, tmp_path):
    iso = drive.write(str(tmp_path / "disk.config"))

    data = open(iso, "rb").read()
    # The primary volume descriptor at sector 16: type 1, "CD001", volume id at byte 40.
    primary = data[16 * SECTOR:17 * SECTOR]
    assert primary[:6] == b"\x01CD001"
    assert primary[40:72].decode().rstrip() == "config-2"
    descriptors = [data[sector * SECTOR:(sector + 1) * SECTOR] for sector in range(16, 20)]
    # Joliet: a supplementary descriptor (type 2) with a UCS-2 escape sequence.
    assert any(d[:6] == b"\x02CD001" and d[88:91] in (b"%/@", b"%/C", b"%/E")
               for d in descriptors)
    assert b"RRIP_1991A" in data or b"IEEE_P1282" in data or b"IEEE_1282" in data


@needs_xorriso
def test_openstack_latest_holds_what_the_guest_needs(drive, tmp_path):
    files = extract(drive.write(str(tmp_path / "disk.config")), tmp_path / "out")

    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert meta["uuid"] == drive.uuid
    assert meta["name"] == "Web Server 1"
    assert meta["hostname"] == "web-server-1"
    assert meta["availability_zone"] == "zone-a"
    assert meta["launch_index"] == 2
    assert meta["project_id"] == "p-1"
    assert meta["meta"] == {"role": "web"}
    assert meta["public_keys"] == {"laptop": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE me@laptop\n"}
    assert meta["keys"] == [{"name": "laptop", "type": "ssh",
                             "data": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE me@laptop\n"}]
    assert meta["devices"] == []
    assert len(meta["random_seed"]) > 600
    assert "admin_pass" not in meta
    assert files["openstack/latest/user_data"] == USER_DATA
    assert json.loads(files["openstack/latest/network_data.json"])["links"][0]["id"] == "tap1"
    assert json.loads(files["openstack/latest/vendor_data2.json"]) == {"static": {"motd": "hi"}}
    assert json.loads(files["openstack/latest/vendor_data.json"]) == {}


@needs_xorriso
def test_dated_versions_carry_what_each_version_had(drive, tmp_path):
    files = extract(drive.write(str(tmp_path / "disk.config")), tmp_path / "out")

    assert {"openstack/2012-08-10/meta_data.json", "openstack/2012-08-10/user_data"} <= set(files)
    assert "openstack/2012-08-10/network_data.json" not in files
    assert "openstack/2015-10-15/network_data.json" in files
    assert "openstack/2016-06-30/vendor_data2.json" not in files
    assert "openstack/2016-10-06/vendor_data2.json" in files
    assert files["openstack/2012-08-10/meta_data.json"] == \
        files["openstack/latest/meta_data.json"]


@needs_xorriso
def test_ec2_layout(drive, tmp_path):
    files = extract(drive.write(str(tmp_path / "disk.config")), tmp_path / "out")

    ec2 = json.loads(files["ec2/latest/meta-data.json"])
    assert ec2["hostname"] == ec2["local-hostname"] == "web-server-1"
    assert ec2["instance-id"] == "i-5a1d3c47"
    assert ec2["instance-type"] == "m1.tiny"
    assert ec2["placement"] == {"availability-zone": "zone-a"}
    assert ec2["public-keys"]["0"]["openssh-key"].startswith("ssh-ed25519 ")
    assert files["ec2/2009-04-04/user-data"] == USER_DATA


@needs_xorriso
def test_minimal_drive(tmp_path):
    files = extract(ConfigDrive(uuid="u-1", name="vm1").write(str(tmp_path / "disk.config")),
                    tmp_path / "out")

    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert (meta["hostname"], meta["public_keys"], meta["keys"]) == ("vm1", {}, [])
    assert "openstack/latest/user_data" not in files
    assert "ec2/latest/user-data" not in files
    assert json.loads(files["openstack/latest/network_data.json"]) == \
        {"links": [], "networks": [], "services": []}


def test_explicit_hostname_and_admin_pass():
    drive = ConfigDrive(uuid="u-1", name="Anything", hostname="db01", admin_pass="s3cret")

    meta = drive.meta_data()

    assert (meta["hostname"], meta["admin_pass"]) == ("db01", "s3cret")


@needs_xorriso
def test_write_replaces_in_one_step_and_leaves_no_scratch(drive, tmp_path):
    target = tmp_path / "i-1" / "disk.config"
    drive.write(str(target))
    drive.write(str(target))

    assert os.listdir(tmp_path / "i-1") == ["disk.config"]
    assert oct(os.stat(target).st_mode & 0o777) == "0o644"


def test_without_xorriso_the_error_names_the_instance(drive, tmp_path, monkeypatch):
    monkeypatch.setattr("undercloud.host.configdrive.shutil.which", lambda name: None)

    with pytest.raises(ConfigDriveError, match=f"instance {drive.uuid}: xorriso is not installed"):
        drive.write(str(tmp_path / "disk.config"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name, hostname", [
    ("vm1", "vm1"), ("Web Server_1.example", "web-server-1-example"),
    ("-edge-", "edge"), ("!!!", "server"), ("a" * 80, "a" * 63),
])
def test_hostname_for(name, hostname):
    assert configdrive.hostname_for(name) == hostname
