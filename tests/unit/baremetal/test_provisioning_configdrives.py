"""Config drives published for nodes over HTTP: one unguessable path per node, readable by the
conductor alone, replaced by a new deploy, removed by unpublish, and crash leftovers cleared
at start without touching the drives waiting nodes need."""
import base64
import gzip
import os

import pytest

from undercloud.baremetal.configdrive import InvalidConfigDrive
from undercloud.baremetal.drivers.configdrives import ConfigDrives
from undercloud.baremetal.drivers.provisioning import Provisioning
from undercloud.common import config as configuration

NODE_A, NODE_B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
ISO = bytes(32768) + b"\x01CD001\x01" + bytes(4000)
PACKED = base64.b64encode(gzip.compress(ISO)).decode()


@pytest.fixture
def drives(tmp_path):
    return ConfigDrives(str(tmp_path / "configdrives"))


def published(drives) -> list[str]:
    return sorted(f"{folder}/{name}" for folder in os.listdir(drives.folder)
                  for name in os.listdir(os.path.join(drives.folder, folder)))


def test_a_drive_is_published_root_only_at_a_random_path(drives):
    result = drives.publish(NODE_A, "node-a", PACKED)

    folder, name = result["path"].split("/")
    assert name == f"{NODE_A}.iso" and len(folder) >= 32 and result["size"] == len(ISO)
    path = os.path.join(drives.folder, result["path"])
    with open(path, "rb") as stream:
        assert stream.read() == ISO
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    assert oct(os.stat(drives.folder).st_mode & 0o777) == "0o700"


def test_publishing_again_replaces_and_unpublish_removes_only_that_nodes(drives):
    first = drives.publish(NODE_A, "node-a", PACKED)
    other = drives.publish(NODE_B, "node-b", PACKED)
    second = drives.publish(NODE_A, "node-a", PACKED)

    assert first["path"] != second["path"]
    assert published(drives) == sorted([second["path"], other["path"]])
    drives.unpublish(NODE_A)
    assert published(drives) == [other["path"]]
    assert os.listdir(drives.folder) == [other["path"].split("/")[0]]


def test_a_bad_value_leaves_nothing_and_keeps_the_earlier_drive(drives):
    earlier = drives.publish(NODE_A, "node-a", PACKED)

    with pytest.raises(InvalidConfigDrive):
        drives.publish(NODE_A, "node-a", "bm90IGd6aXBwZWQ=")
    assert published(drives) == [earlier["path"]]


def test_a_start_clears_half_written_drives_but_keeps_published_ones(drives):
    kept = drives.publish(NODE_A, "node-a", PACKED)
    crashed = os.path.join(drives.folder, "Zx8pQ2mV7rT4nL1kW9cB5dF3")
    os.makedirs(os.path.join(crashed, ".configdrive-x1y2", "tree"))
    with open(os.path.join(crashed, f"{NODE_B}.part"), "wb") as stream:
        stream.write(b"half")
    os.mkdir(os.path.join(drives.folder, "emptyemptyemptyempty"))

    drives.clean_leftovers()

    assert published(drives) == [kept["path"]]
    assert os.listdir(drives.folder) == [kept["path"].split("/")[0]]


def test_unpublish_without_any_drive_is_quiet(drives):
    drives.unpublish(NODE_A)
    drives.clean_leftovers()
    assert os.listdir(drives.folder) == []


def test_the_provisioning_network_serves_it_under_configdrives(tmp_path):
    config = configuration.load(environ={}, overrides={"data_dir": str(tmp_path / "data")})
    provisioning = Provisioning(config)

    result = provisioning.prepare_configdrive(NODE_A, "node-a", PACKED)

    assert result["size"] == len(ISO)
    prefix = f"{provisioning.agent_url}/configdrives/"
    assert result["url"].startswith(prefix) and result["url"].endswith(f"/{NODE_A}.iso")
    path = config.path("baremetal", "http", "configdrives", result["url"][len(prefix):])
    with open(path, "rb") as stream:
        assert stream.read() == ISO
    provisioning.unpublish_configdrive(NODE_A)
    assert not os.path.exists(path)
