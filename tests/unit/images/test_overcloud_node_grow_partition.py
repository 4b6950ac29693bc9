"""The node's /init growing its root partition (grow-partition.sh) with the same busybox the
initramfs runs, on image files that stand in for disks."""
import os
import shutil
import struct
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "images", "overcloud-node",
                      "initramfs", "usr", "lib", "stackbox", "grow-partition.sh")
DISK_SECTORS = 204800  # 100 MiB


def disk(path, entries, sectors=DISK_SECTORS, signature=b"\x55\xaa"):
    """An image file whose MBR holds `entries`: (type, start, size) per slot, None when empty."""
    mbr = bytearray(512)
    for slot, entry in enumerate(entries):
        if entry:
            type_, start, size = entry
            mbr[446 + 16 * slot:462 + 16 * slot] = struct.pack(
                "<B3sB3sII", 0, b"\xfe\xff\xff", type_, b"\xfe\xff\xff", start, size)
    mbr[510:512] = signature
    with open(path, "wb") as stream:
        stream.write(mbr)
        stream.truncate(sectors * 512)
    return path


def entries_of(path):
    with open(path, "rb") as stream:
        mbr = stream.read(512)
    entries = [struct.unpack_from("<B3sB3sII", mbr, 446 + 16 * slot) for slot in range(4)]
    return [(type_, start, size) for _, _, type_, _, start, size in entries]


def grow(path, number, sectors=DISK_SECTORS):
    result = subprocess.run(["busybox", "sh", SCRIPT, str(path), str(number), str(sectors)],
                            capture_output=True, text=True)
    return result.returncode, result.stdout.strip()


def test_the_root_grows_to_the_config_drive_after_it(tmp_path):
    image = disk(tmp_path / "disk", [(0x0c, 2048, 20480), (0x83, 22528, 40960),
                                     (0x83, 192512, 12288)])

    assert grow(image, 2) == (0, "stackbox-node: root partition grown to 169984 sectors")
    assert entries_of(image) == [(0x0c, 2048, 20480), (0x83, 22528, 169984),
                                 (0x83, 192512, 12288), (0, 0, 0)]


def test_without_a_partition_after_it_the_root_grows_to_the_disks_end(tmp_path):
    image = disk(tmp_path / "disk", [(0x0c, 2048, 20480), (0x83, 22528, 40960)])

    assert grow(image, 2) == (0, "stackbox-node: root partition grown to 182272 sectors")
    assert entries_of(image)[1] == (0x83, 22528, 182272)


def test_a_partition_in_a_later_slot_but_placed_before_the_root_is_no_limit(tmp_path):
    image = disk(tmp_path / "disk", [None, (0x83, 22528, 40960), None, (0x0c, 2048, 20480)])

    assert grow(image, 2)[0] == 0
    assert entries_of(image)[1] == (0x83, 22528, 182272)


def test_a_second_boot_finds_nothing_to_grow(tmp_path):
    image = disk(tmp_path / "disk", [(0x0c, 2048, 20480), (0x83, 22528, 182272)])

    assert grow(image, 2) == (1, "stackbox-node: root partition has 182272 sectors, "
                                 "no free space after it")


def test_an_mbr_entry_holds_at_most_2_tib(tmp_path):
    image = disk(tmp_path / "disk", [(0x0c, 2048, 20480), (0x83, 22528, 40960)])

    assert grow(image, 2, sectors=2 ** 33)[0] == 0  # a 4 TiB disk
    assert entries_of(image)[1] == (0x83, 22528, 2 ** 32 - 1)


@pytest.mark.parametrize("entries, signature, number, reason", [
    ([(0xee, 1, 204799)], b"\x55\xaa", 2, "GPT disks are not supported"),
    ([(0x83, 2048, 4096)], b"\0\0", 1, "{disk} has no MBR"),
    ([(0x05, 2048, 4096)], b"\x55\xaa", 5, "partition 5 is not a primary one"),
])
def test_disks_it_cannot_grow_on_are_left_alone(tmp_path, entries, signature, number, reason):
    image = disk(tmp_path / "disk", entries, signature=signature)
    before = image.read_bytes()

    assert grow(image, number) == (
        1, f"stackbox-node: root partition not grown: {reason.format(disk=image)}")
    assert image.read_bytes() == before
