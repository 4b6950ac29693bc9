"""Instance disks: the image cache, overlays, resize, delete and snapshot export (qemu-img)."""
import hashlib
import os
import shutil
import subprocess
import threading

import pytest

from undercloud.host import disks
from undercloud.host.errors import DiskError, ImageError

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None,
                                reason="qemu-img is not installed (Debian package qemu-utils)")
MIB = 1024 * 1024


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


@pytest.fixture
def image(tmp_path):
    """A 16 MiB qcow2 'image' with known bytes at the start, as Glance would serve it."""
    raw = tmp_path / "source.raw"
    raw.write_bytes(b"stackbox-image!" * 1000)
    qemu_img("resize", "-q", "-f", "raw", str(raw), "16M")
    path = tmp_path / "source.qcow2"
    qemu_img("convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(path))
    return path


def streamer(path, calls):
    def stream():
        calls.append(1)
        with open(path, "rb") as source:
            while chunk := source.read(64 * 1024):
                yield chunk
    return stream


@pytest.fixture
def cache(tmp_path):
    return disks.ImageCache(str(tmp_path / "_base"))


def leftovers(folder):
    return [name for name in os.listdir(folder) if name not in (".locks",)]


def test_fetch_downloads_once_and_checks_every_checksum(cache, image):
    calls = []
    data = image.read_bytes()
    checksums = {"md5": hashlib.md5(data).hexdigest(),
                 "sha512": hashlib.sha512(data).hexdigest()}

    first = cache.fetch("img-1", streamer(image, calls), checksums)
    again = cache.fetch("img-1", streamer(image, calls), checksums)

    assert calls == [1]
    assert first.path == again.path == cache.path("img-1")
    assert (first.format, first.virtual_size) == ("qcow2", 16 * MIB)
    assert oct(os.stat(first.path).st_mode & 0o777) == "0o644"
    assert cache.cached() == ["img-1"]


def test_checksum_mismatch_caches_nothing(cache, image):
    with pytest.raises(ImageError, match="image img-1: md5 checksum is [0-9a-f]{32}, "
                                         "expected 00000000"):
        cache.fetch("img-1", streamer(image, []), {"md5": "0" * 32})

    assert leftovers(cache.folder) == []


def test_unknown_checksum_algorithm(cache, image):
    with pytest.raises(ImageError, match="unknown checksum algorithm 'crc99'"):
        cache.fetch("img-1", streamer(image, []), {"crc99": "00"})


def test_a_failed_download_leaves_nothing(cache):
    def broken():
        yield b"partial"
        raise ConnectionResetError("image service went away")

    with pytest.raises(ImageError, match="image img-1: download failed: image service went away"):
        cache.fetch("img-1", broken)

    assert leftovers(cache.folder) == []


def test_concurrent_fetches_download_once(cache, image):
    calls = []
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        cache.fetch("img-1", streamer(image, calls)))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert calls == [1]
    assert {result.path for result in results} == {cache.path("img-1")}


def test_raw_images_are_cached_as_raw(cache, tmp_path):
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * MIB)

    assert cache.fetch("raw-1", streamer(raw, [])).format == "raw"


@pytest.mark.parametrize("image_id", ["../etc", ".hidden", "a/b", ""])
def test_image_ids_that_cannot_name_a_file(cache, image_id):
    with pytest.raises(ImageError, match="cannot name a cache file"):
        cache.fetch(image_id, lambda: iter([b""]))


def test_an_image_with_a_backing_file_is_refused(cache, tmp_path, image):
    sneaky = tmp_path / "sneaky.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image), str(sneaky))

    with pytest.raises(ImageError, match="refers to a backing file"):
        cache.fetch("sneaky", streamer(sneaky, []))
    assert leftovers(cache.folder) == []


def test_formats_other_than_qcow2_and_raw_are_refused(cache, tmp_path):
    vmdk = tmp_path / "disk.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", str(vmdk), "1M")

    with pytest.raises(ImageError, match="image vm-1 is vmdk; only qcow2 or raw images can boot"):
        cache.fetch("vm-1", streamer(vmdk, []))


def test_remove(cache, image):
    cache.fetch("img-1", streamer(image, []))

    cache.remove("img-1")
    cache.remove("img-1")

    assert cache.cached() == []


def test_overlay_is_a_thin_qcow2_on_the_base(cache, image, tmp_path):
    base = cache.fetch("img-1", streamer(image, []))
    instance_id = "3b5c8e7e-0000-4000-8000-000000000001"
    files = disks.instance_files(str(tmp_path / "instances"), instance_id)

    overlay = disks.create_overlay(base.path, files.disk, size_gb=1)

    assert overlay.path == files.disk == str(tmp_path / "instances" / instance_id / "disk")
    assert (overlay.format, overlay.virtual_size) == ("qcow2", 1024 * MIB)
    assert overlay.backing_file == base.path
    assert os.path.getsize(overlay.path) < MIB


def test_overlay_defaults_to_the_image_size(cache, image, tmp_path):
    base = cache.fetch("img-1", streamer(image, []))

    assert disks.create_overlay(base.path, str(tmp_path / "disk")).virtual_size == 16 * MIB


def test_overlay_never_smaller_than_the_image(tmp_path):
    big = tmp_path / "big.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(big), "2G")

    with pytest.raises(DiskError, match="1 GB is smaller than the image's 2 GB"):
        disks.create_overlay(str(big), str(tmp_path / "disk"), size_gb=1)


def test_overlay_never_overwrites(image, tmp_path):
    disk = tmp_path / "disk"
    disks.create_overlay(str(image), str(disk))

    with pytest.raises(DiskError, match="already exists"):
        disks.create_overlay(str(image), str(disk))


def test_resize_grows_only(image, tmp_path):
    disk = disks.create_overlay(str(image), str(tmp_path / "disk"), size_gb=1)

    assert disks.resize(disk.path, 2).virtual_size == 2 * 1024 * MIB
    assert disks.resize(disk.path, 2).virtual_size == 2 * 1024 * MIB
    with pytest.raises(DiskError, match="it is already 2 GB and disks only grow"):
        disks.resize(disk.path, 1)


def test_snapshot_export_is_standalone_and_identical(image, tmp_path):
    disk = disks.create_overlay(str(image), str(tmp_path / "disk"))
    qemu_img("resize", "-q", disk.path, "32M")

    snapshot = disks.export_snapshot(disk.path, str(tmp_path / "out" / "snap.qcow2"))

    assert (snapshot.format, snapshot.backing_file) == ("qcow2", None)
    compare = subprocess.run(["qemu-img", "compare", disk.path, snapshot.path],
                             capture_output=True, text=True)
    assert compare.returncode == 0, compare.stdout + compare.stderr
    assert [name for name in os.listdir(tmp_path / "out")] == ["snap.qcow2"]


def test_snapshot_export_failure_leaves_nothing(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(DiskError, match="cannot export a snapshot of"):
        disks.export_snapshot(str(tmp_path / "missing"), str(tmp_path / "out" / "snap.qcow2"))
    assert os.listdir(tmp_path / "out") == []


def test_delete_files_and_folders(image, tmp_path):
    files = disks.instance_files(str(tmp_path), "i-1")
    disks.create_overlay(str(image), files.disk)
    (tmp_path / "i-1" / "console.log").write_text("boot")

    disks.delete(files.disk)
    disks.delete(files.disk)
    disks.delete(files.folder)
    disks.delete(files.folder)

    assert not os.path.exists(files.folder)


def test_instance_ids_that_cannot_name_a_folder(tmp_path):
    with pytest.raises(DiskError, match="cannot name a folder"):
        disks.instance_files(str(tmp_path), "../../etc")


def test_info_of_a_missing_disk(tmp_path):
    with pytest.raises(DiskError, match="does not exist"):
        disks.info(str(tmp_path / "nope"))
