"""The overcloud node's root as its disk holds it (root_tree.py, node_disk.py): which kernel
modules it gets, its fstab, how large its partition is and what the kernel is told."""
import os

from node_disk import kernel_args, root_mib
from root_tree import content_bytes, fstab, kept_modules

from tests.fixtures.fake_kernel import fake_module

MIB = 1024 * 1024


def test_modules_of_hardware_servers_lack_are_left_out_but_not_a_kept_ones_dependencies(
        tmp_path):
    fake_module(tmp_path, "kernel/drivers/net/ethernet/intel/igb/igb.ko", ["i2c_algo_bit"])
    fake_module(tmp_path, "kernel/drivers/i2c/algos/i2c-algo-bit.ko")
    fake_module(tmp_path, "kernel/drivers/net/usb/usbnet.ko", ["usbcore"])
    fake_module(tmp_path, "kernel/drivers/usb/core/usbcore.ko")
    fake_module(tmp_path, "kernel/drivers/usb/storage/usb-storage.ko", ["usbcore"])
    fake_module(tmp_path, "kernel/drivers/gpu/drm/drm.ko")
    fake_module(tmp_path, "kernel/sound/core/snd.ko")
    fake_module(tmp_path, "kernel/net/wireless/cfg80211.ko")
    fake_module(tmp_path, "kernel/fs/ext4/ext4.ko", ["jbd2"])
    (tmp_path / "modules.builtin").write_text("kernel/fs/jbd2/jbd2.ko\n")

    assert kept_modules(str(tmp_path)) == [
        "kernel/drivers/i2c/algos/i2c-algo-bit.ko",
        "kernel/drivers/net/ethernet/intel/igb/igb.ko",
        "kernel/drivers/net/usb/usbnet.ko",
        "kernel/drivers/usb/core/usbcore.ko",  # usbnet needs it
        "kernel/fs/ext4/ext4.ko",
    ]


def test_fstab_names_the_root_by_uuid_and_lets_systemd_grow_it():
    assert fstab("0f6c3a52-4c1e-4d7e-9a55-1f1e2d3c4b5a") == \
        "UUID=0f6c3a52-4c1e-4d7e-9a55-1f1e2d3c4b5a / ext4 defaults,x-systemd.growfs 0 1\n"


def test_the_kernel_finds_its_root_by_uuid_and_talks_on_the_serial_port():
    assert kernel_args("abc") == "root=UUID=abc console=tty0 console=ttyS0,115200n8"


def test_the_root_partition_holds_its_content_a_quarter_more_and_64_mib():
    assert root_mib(400 * MIB) == 564
    assert root_mib(400 * MIB + 1) == 565  # rounded up to a whole MiB


def test_content_counts_whole_blocks_and_a_hard_linked_file_once(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "small").write_bytes(b"x")
    (tmp_path / "big").write_bytes(b"x" * 5000)
    os.link(tmp_path / "big", tmp_path / "big-again")
    os.symlink("big", tmp_path / "link")

    # etc/ 4096, small 4096, big 8192 (once), the link 4096
    assert content_bytes(str(tmp_path)) == 20480
