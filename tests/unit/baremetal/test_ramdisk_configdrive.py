"""The ramdisk's config drive writer (write-configdrive.sh) with the same busybox the ramdisk
runs, against a real HTTP server on loopback, on files standing in for disks whose MBR the
image wrote: the new partition entry is read back byte by byte, the ISO at its start."""
import os
import shutil
import struct
import subprocess

import pytest

from tests.fixtures.loopback_http import serving

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "images", "deploy-ramdisk",
                      "rootfs", "usr", "lib", "stackbox", "write-configdrive.sh")
MIB = 1024 * 1024
SECTOR = 512
# An ISO 9660 image as far as the ramdisk looks: "CD001" in the volume descriptor at sector 16.
ISO = bytes(32768) + b"\x01CD001\x01" + bytes(2041) + bytes(range(256)) * 40
CONFIG_DRIVE_SECTORS = 64 * MIB // SECTOR
# What the image's MBR holds: a bootable FAT partition at 1 MiB, 63 MiB long (the tiny guest's).
IMAGE_PARTITION = (0x80, 0x0C, 2048, 63 * MIB // SECTOR)


@pytest.fixture(scope="module")
def server():
    """/configdrive.iso, /big.iso (64 MiB and a byte), /text.iso (no ISO), others 404."""
    def big(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(64 * MIB + 1))
        handler.end_headers()
        for _ in range(64):
            handler.wfile.write(bytes(MIB))
        handler.wfile.write(b"x")

    with serving({"/configdrive.iso": ISO, "/text.iso": b"#!/bin/sh\n" * 4000,
                  "/big.iso": big}) as url:
        yield url


def make_disk(path, size, partitions=(IMAGE_PARTITION,), signature=b"\x55\xaa"):
    """A sparse file of `size` bytes whose MBR holds `partitions` (status, type, start,
    sectors) in its first entries ((0, 0, 0, 0) leaves one empty)."""
    with open(path, "wb") as stream:
        stream.truncate(size)
        stream.seek(446)
        for status, kind, start, sectors in partitions:
            stream.write(struct.pack("<B3sB3sII", status, b"\xfe\xff\xff", kind,
                                     b"\xfe\xff\xff", start, sectors))
        stream.seek(510)
        stream.write(signature)
    return path


def entries(path) -> list[bytes]:
    with open(path, "rb") as stream:
        stream.seek(446)
        return [stream.read(16) for _ in range(4)]


def read_at(path, sector, length) -> bytes:
    with open(path, "rb") as stream:
        stream.seek(sector * SECTOR)
        return stream.read(length)


def write_configdrive(url, target, size=""):
    result = subprocess.run(["busybox", "sh", SCRIPT, url, str(size), str(target)],
                            capture_output=True, text=True)
    return result.returncode, result.stdout.strip(), result.stderr.strip()


def expected_entry(start, sectors) -> bytes:
    return bytes([0x00, 0xFE, 0xFF, 0xFF, 0x83, 0xFE, 0xFF, 0xFF]) + \
        struct.pack("<II", start, sectors)


def test_the_drive_gets_the_disks_last_64_mib_in_the_first_free_entry(server, tmp_path):
    disk = make_disk(tmp_path / "disk", 128 * MIB)
    before = entries(disk)[0]

    assert write_configdrive(f"{server}/configdrive.iso", disk, len(ISO)) == \
        (0, f"{len(ISO)} 131072", "")
    assert entries(disk) == [before, expected_entry(131072, CONFIG_DRIVE_SECTORS),
                             bytes(16), bytes(16)]
    assert read_at(disk, 131072, len(ISO)) == ISO
    assert read_at(disk, 0, SECTOR)[510:] == b"\x55\xaa"
    assert os.path.getsize(disk) == 128 * MIB   # a disk: never grown nor truncated


def test_the_start_is_1_mib_aligned_and_the_partition_reaches_the_disks_end(server, tmp_path):
    disk = make_disk(tmp_path / "disk", 200 * MIB + 3 * SECTOR)
    sectors = (200 * MIB + 3 * SECTOR) // SECTOR
    start = (sectors - CONFIG_DRIVE_SECTORS) // 2048 * 2048

    assert write_configdrive(f"{server}/configdrive.iso", disk)[:2] == (0, f"{len(ISO)} {start}")
    assert entries(disk)[1] == expected_entry(start, sectors - start)
    assert start % 2048 == 0 and sectors - start > CONFIG_DRIVE_SECTORS


def test_an_empty_entry_before_a_used_one_is_taken(server, tmp_path):
    disk = make_disk(tmp_path / "disk", 128 * MIB, [(0, 0, 0, 0), IMAGE_PARTITION])

    assert write_configdrive(f"{server}/configdrive.iso", disk)[0] == 0
    assert entries(disk)[0] == expected_entry(131072, CONFIG_DRIVE_SECTORS)


def test_beyond_2_tib_the_partition_ends_where_mbr_can_still_count(server, tmp_path):
    disk = make_disk(tmp_path / "disk", 3 * 1024 ** 4)
    start = (2 ** 32 - 1 - CONFIG_DRIVE_SECTORS) // 2048 * 2048

    assert write_configdrive(f"{server}/configdrive.iso", disk)[:2] == (0, f"{len(ISO)} {start}")
    assert entries(disk)[1] == expected_entry(start, 2 ** 32 - 1 - start)
    assert read_at(disk, start, len(ISO)) == ISO


@pytest.mark.parametrize("partitions, signature, reason", [
    ([(0, 0xEE, 1, 262143)], b"\x55\xaa", "config drive: GPT disks are not supported"),
    ([IMAGE_PARTITION], b"\x00\x00",
     "config drive: {disk} has no MBR partition table (no 0x55AA at byte 510): only "
     "whole-disk images with an MBR can take a config drive"),
    ([IMAGE_PARTITION, (0, 0x83, 131072, 2048)], b"\x55\xaa",
     "config drive: the disk is too small: {disk} has 262144 sectors, its partitions end at "
     "sector 133120, and the config drive needs 131072 sectors (64 MiB) after them from a "
     "1 MiB boundary"),
    ([(0, 0x83, 2048 * n, 2048) for n in range(1, 5)], b"\x55\xaa",
     "config drive: {disk} uses MBR partitioning and already has 4 primary partitions"),
])
def test_disks_that_cannot_take_it_fail_untouched(server, tmp_path, partitions, signature,
                                                  reason):
    disk = make_disk(tmp_path / "disk", 128 * MIB, partitions, signature)
    before = disk.read_bytes()

    assert write_configdrive(f"{server}/configdrive.iso", disk) == \
        (1, "", reason.format(disk=disk))
    assert disk.read_bytes() == before


def test_a_disk_smaller_than_the_drives_partition_fails(server, tmp_path):
    disk = make_disk(tmp_path / "disk", 32 * MIB, [])

    code, _, reason = write_configdrive(f"{server}/configdrive.iso", disk)

    assert code == 1 and reason.startswith("config drive: the disk is too small: ")


@pytest.mark.parametrize("path, size, reason", [
    ("/missing.iso", "", "downloading {url} failed: server returned error: HTTP/1.0 404"),
    ("/configdrive.iso", "4096", f"{{url}} sent {len(ISO)} bytes, not the 4096 of the config "
                                 "drive"),
    ("/text.iso", "", "{url} is not an ISO 9660 image"),
    ("/big.iso", "", "{url} is larger than the maximum of 64 MiB"),
])
def test_a_bad_download_fails_before_the_disk_is_touched(server, tmp_path, path, size, reason):
    disk = make_disk(tmp_path / "disk", 128 * MIB)
    before = disk.read_bytes()
    url = f"{server}{path}"

    code, out, error = write_configdrive(url, disk, size)

    assert (code, out) == (1, "")
    assert error.startswith("config drive: " + reason.format(url=url))
    assert disk.read_bytes() == before


def test_no_disk_fails_naming_it(server):
    assert write_configdrive(f"{server}/configdrive.iso", "/nonexistent/vdz") == \
        (1, "", "config drive: no disk /nonexistent/vdz to write it to")
