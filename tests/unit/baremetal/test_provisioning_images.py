"""Deploy images: a Glance image (a stand-in client here; the lab test uses the real image
service) checked, converted to raw with the real qemu-img, published per node by hard link,
and removed with its last node."""
import hashlib
import os
import subprocess

import pytest

from undercloud.baremetal.drivers.images import DeployImages, ImageError
from undercloud.client.http import ApiError

NODE_A, NODE_B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
IMAGE = "5f1d9bc2-8a47-4c1e-9d55-2c6f0b1e0001"


class Glance:
    """The image service's records and bytes, as undercloud.compute.images.ImageClient."""

    def __init__(self):
        self.images, self.downloads, self.tokens = {}, 0, []

    def add(self, image_id, data: bytes, **record):
        self.images[image_id] = ({"id": image_id, "status": "active",
                                  "checksum": hashlib.md5(data).hexdigest(),
                                  "os_hash_algo": "sha512",
                                  "os_hash_value": hashlib.sha512(data).hexdigest(),
                                  **record}, data)

    def get(self, context, image_id):
        self.tokens.append(context["token"])
        if image_id not in self.images:
            raise ApiError(404, f"GET /v2/images/{image_id}: HTTP 404: not found")
        return self.images[image_id][0]

    def data(self, context, image_id):
        self.downloads += 1
        data = self.images[image_id][1]
        for start in range(0, len(data), 65536):
            yield data[start:start + 65536]


def qcow2(tmp_path, raw: bytes, backing: str | None = None) -> bytes:
    source, target = tmp_path / "source.raw", tmp_path / "image.qcow2"
    source.write_bytes(raw)
    if backing:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                        str(source), str(target)], check=True)
    else:
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(source),
                        str(target)], check=True)
    return target.read_bytes()


RAW = b"\xeb\x63\x90" + os.urandom(5000) + bytes(1024 * 1024 - 5003)   # 1 MiB, mostly holes


@pytest.fixture
def glance():
    return Glance()


@pytest.fixture
def images(tmp_path, glance):
    deploy = DeployImages(str(tmp_path / "images"), str(tmp_path / "http" / "images"), glance)
    deploy.clean_leftovers()
    return deploy


def published(tmp_path, result) -> str:
    return str(tmp_path / "http" / "images" / result["path"])


def test_a_qcow2_image_is_published_raw_with_its_sha256(tmp_path, glance, images):
    glance.add(IMAGE, qcow2(tmp_path, RAW), disk_format="qcow2")
    result = images.publish("user-token", IMAGE, NODE_A)
    with open(published(tmp_path, result), "rb") as stream:
        assert stream.read() == RAW
    assert result["checksum"] == hashlib.sha256(RAW).hexdigest()
    assert result["size"] == len(RAW)
    assert result["path"].endswith(f"/{NODE_A}.raw") and len(result["path"].split("/")[0]) >= 32
    assert glance.tokens == ["user-token"]
    assert images.downloads.cached() == []                        # converted, then dropped


def test_nodes_share_one_download_and_the_last_unpublish_removes_it(tmp_path, glance, images):
    glance.add(IMAGE, RAW, disk_format="raw")
    first = images.publish("token", IMAGE, NODE_A)
    second = images.publish("token", IMAGE, NODE_B)
    assert glance.downloads == 1
    assert first["path"] != second["path"]
    assert os.stat(published(tmp_path, first)).st_ino == \
        os.stat(published(tmp_path, second)).st_ino
    images.unpublish(NODE_A)
    assert not os.path.exists(published(tmp_path, first))
    assert os.path.exists(published(tmp_path, second))
    images.unpublish(NODE_B)
    images.unpublish(NODE_B)                                 # twice is fine
    assert os.listdir(tmp_path / "images" / "raw") == []
    assert os.listdir(tmp_path / "http" / "images") == []


def test_publishing_again_replaces_the_nodes_url(tmp_path, glance, images):
    glance.add(IMAGE, RAW, disk_format="raw")
    first = images.publish("token", IMAGE, NODE_A)
    again = images.publish("token", IMAGE, NODE_A)
    assert first["path"] != again["path"]
    assert not os.path.exists(published(tmp_path, first))
    assert glance.downloads == 1


def test_data_that_does_not_match_glances_checksum_is_refused(tmp_path, glance, images):
    glance.add(IMAGE, RAW, disk_format="raw", os_hash_value="0" * 128)
    with pytest.raises(ImageError, match="sha512 checksum is"):
        images.publish("token", IMAGE, NODE_A)
    assert os.listdir(tmp_path / "images" / "raw") == []
    assert os.listdir(tmp_path / "http" / "images") == []


def test_images_that_are_unsafe_missing_or_not_active_are_refused(tmp_path, glance, images):
    glance.add(IMAGE, qcow2(tmp_path, RAW, backing="raw"), disk_format="qcow2")
    with pytest.raises(ImageError, match="backing file"):
        images.publish("token", IMAGE, NODE_A)
    with pytest.raises(ImageError, match="HTTP 404"):
        images.publish("token", "0e0e0e0e-0000-4000-8000-000000000000", NODE_A)
    glance.add(IMAGE, b"", status="queued", checksum=None, os_hash_value=None)
    with pytest.raises(ImageError, match="is queued, not active"):
        images.publish("token", IMAGE, NODE_A)
    with pytest.raises(ImageError, match="cannot name an image file"):
        images.publish("token", IMAGE, "../etc")


def test_a_start_removes_what_a_crash_left_and_keeps_what_nodes_use(tmp_path, glance, images):
    glance.add(IMAGE, RAW, disk_format="raw")
    used = images.publish("token", IMAGE, NODE_A)
    raw = tmp_path / "images" / "raw"
    for name in ("other.raw.part", "half.raw", "lost.json", "unused.raw", "unused.json"):
        (raw / name).write_bytes(b"x")
    (tmp_path / "images" / "downloads" / ".partial").write_bytes(b"x")
    (tmp_path / "http" / "images" / "emptyfolder0000000000").mkdir()
    images.clean_leftovers()
    key = f"{IMAGE}-{hashlib.sha512(RAW).hexdigest()[:16]}"
    assert sorted(os.listdir(raw)) == [f"{key}.json", f"{key}.raw"]
    assert os.listdir(tmp_path / "http" / "images") == [used["path"].split("/")[0]]
    assert not os.path.exists(tmp_path / "images" / "downloads")
    with open(published(tmp_path, used), "rb") as stream:
        assert stream.read() == RAW
