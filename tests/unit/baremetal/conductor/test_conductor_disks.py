"""The root disk an inventory offers and the properties inspection derives from it."""
import pytest

from undercloud.baremetal.flows import disks

GIB = 1024 ** 3
INVENTORY = {"cpu": {"count": 4, "architecture": "x86_64"},
             "memory": {"total": 4 * GIB, "physical_mb": 4096},
             "disks": [{"name": "/dev/sda", "size": 20 * GIB, "serial": "A", "rotational": True},
                       {"name": "/dev/sdb", "size": 40 * GIB, "serial": "B",
                        "rotational": False}]}


def test_largest_disk_without_hints():
    assert disks.root_disk(INVENTORY)["name"] == "/dev/sdb"


def test_hints_choose_the_disk():
    assert disks.root_disk(INVENTORY, {"serial": "A"})["name"] == "/dev/sda"
    assert disks.root_disk(INVENTORY, {"name": "sda"})["name"] == "/dev/sda"
    assert disks.root_disk(INVENTORY, {"size": 40, "rotational": "false"})["name"] == "/dev/sdb"


def test_hints_that_match_nothing_say_so():
    with pytest.raises(disks.NoRootDisk, match="/dev/sda, /dev/sdb"):
        disks.root_disk(INVENTORY, {"serial": "C"})


def test_properties_keep_a_gib_for_partitioning():
    assert disks.properties(INVENTORY) == {"cpus": 4, "cpu_arch": "x86_64", "memory_mb": 4096,
                                           "local_gb": 39}


def test_no_disks_no_local_gb():
    assert "local_gb" not in disks.properties({"disks": []})
