"""An nspawn host's root file system, prepared from a tiny stand-in for the node image."""
import ipaddress
import os
import stat

import pytest

from undercloud.lab import nspawn

ADDRESS = ipaddress.IPv4Interface("10.252.0.10/24")
LAB_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeLabKeyForTheTestOnly stackbox-lab"


@pytest.fixture
def image(tmp_path):
    """The node image's shape where the lab writes: /etc, sshd's drop-ins, D-Bus's id."""
    rootfs = tmp_path / "image" / "rootfs"
    (rootfs / "etc/ssh/sshd_config.d").mkdir(parents=True)
    (rootfs / "etc/systemd/network").mkdir(parents=True)
    (rootfs / "var/lib/dbus").mkdir(parents=True)
    (rootfs / "etc/hostname").write_text("vm\n")
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "var/lib/dbus/machine-id").write_text("f0f2a4b00ee7464ab363dfae82143486\n")
    return str(rootfs)


@pytest.fixture
def host(image, tmp_path):
    rootfs = tmp_path / "hosts" / "oc-0" / "rootfs"
    host_key = nspawn.prepare(image, str(rootfs), "oc-0", ADDRESS, LAB_KEY)
    return rootfs, host_key


def test_the_host_has_its_name_and_address(host):
    rootfs, _ = host
    assert (rootfs / "etc/hostname").read_text() == "oc-0\n"
    assert "10.252.0.10\toc-0\n" in (rootfs / "etc/hosts").read_text()
    network = (rootfs / nspawn.NETWORK_FILE).read_text()
    assert "Name=host0" in network and "Address=10.252.0.10/24" in network
    assert "Gateway" not in network   # the lab's network leads nowhere else


def test_root_lets_the_lab_key_in(host):
    rootfs, _ = host
    keys = rootfs / "root/.ssh/authorized_keys"
    assert keys.read_text() == LAB_KEY + "\n"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert stat.S_IMODE((rootfs / "root/.ssh").stat().st_mode) == 0o700


def test_the_host_has_its_own_host_key_for_known_hosts(host):
    rootfs, host_key = host
    assert host_key.startswith("ssh-ed25519 ")
    assert (rootfs / (nspawn.HOST_KEY + ".pub")).read_text().startswith(host_key)
    assert (rootfs / nspawn.SSHD_DROP_IN).read_text() == f"HostKey /{nspawn.HOST_KEY}\n"


def test_the_host_makes_its_own_machine_id(host):
    rootfs, _ = host
    assert (rootfs / "etc/machine-id").read_text() == ""
    # Not the image's D-Bus id, which systemd would take as every host's machine ID.
    assert os.readlink(rootfs / nspawn.DBUS_MACHINE_ID) == "/etc/machine-id"


def test_the_image_is_left_as_it_was(host, image):
    assert open(os.path.join(image, "etc/hostname")).read() == "vm\n"
    assert not os.path.exists(os.path.join(image, "root/.ssh"))


def test_two_hosts_get_different_host_keys(image, tmp_path):
    first = nspawn.prepare(image, str(tmp_path / "a" / "rootfs"), "oc-0", ADDRESS, LAB_KEY)
    second = nspawn.prepare(image, str(tmp_path / "b" / "rootfs"), "oc-1", ADDRESS, LAB_KEY)
    assert first != second


def test_a_missing_image_names_it(tmp_path):
    with pytest.raises(nspawn.NspawnError, match="no-image"):
        nspawn.prepare(str(tmp_path / "no-image"), str(tmp_path / "rootfs"), "oc-0", ADDRESS,
                       LAB_KEY)
    assert not os.path.exists(tmp_path / "rootfs")


def test_a_host_that_never_ran_is_not_found_and_is_removed(host):
    rootfs, _ = host
    assert nspawn.find(str(rootfs)) is None
    nspawn.remove_rootfs(str(rootfs))
    assert not rootfs.exists()
