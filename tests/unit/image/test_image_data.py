"""Image data: upload, download, ranges, the import flow, and what a failed upload leaves."""
import hashlib
import io
import os
import shutil
import subprocess
import threading

import pytest

from undercloud.image.models import Image

OCTETS = {"Content-Type": "application/octet-stream"}


def store_files(cfg):
    directory = cfg.path("images")
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def test_upload_records_size_and_digests_and_download_gives_the_bytes_back(alice):
    image = alice.create(disk_format="raw", container_format="bare")
    data = os.urandom(3 * 1024 * 1024 + 17)
    assert alice.upload(image["id"], data).status_code == 204
    shown = alice.show(image["id"]).get_json()
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert shown["virtual_size"] == len(data)  # raw: the guest sees the data as is
    download = alice.get(f"/v2/images/{image['id']}/file")
    assert download.status_code == 200 and download.data == data
    assert download.headers["Content-MD5"] == shown["checksum"]
    assert download.headers["Content-Length"] == str(len(data))


def test_empty_image_download_is_204(alice):
    image = alice.create()
    response = alice.get(f"/v2/images/{image['id']}/file")
    assert response.status_code == 204 and response.data == b""


@pytest.mark.parametrize("header, expected", [
    ("bytes=0-9", (0, 10)), ("bytes=100-", (100, 1000)), ("bytes=-5", (995, 1000)),
    ("bytes=990-5000", (990, 1000))])
def test_range_requests_answer_206_with_the_bytes_asked(alice, header, expected):
    image = alice.create(disk_format="raw", container_format="bare")
    data = os.urandom(1000)
    alice.upload(image["id"], data)
    response = alice.get(f"/v2/images/{image['id']}/file", headers={"Range": header})
    start, stop = expected
    assert response.status_code == 206
    assert response.data == data[start:stop]
    assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/1000"


@pytest.mark.parametrize("header", ["bytes=2000-3000", "pages=1-2", "bytes=oops"])
def test_unsatisfiable_ranges_answer_416(alice, header):
    image = alice.create(disk_format="raw", container_format="bare")
    alice.upload(image["id"], b"x" * 1000)
    response = alice.get(f"/v2/images/{image['id']}/file", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */1000"


def test_upload_needs_formats_a_queued_image_and_octet_stream(alice):
    bare = alice.create()
    response = alice.upload(bare["id"], b"data")
    assert response.status_code == 400
    assert "must be set prior to saving data" in response.get_json()["message"]
    assert alice.show(bare["id"]).get_json()["status"] == "queued"
    image = alice.create(disk_format="raw", container_format="bare")
    wrong_type = alice.put(f"/v2/images/{image['id']}/file", data=b"x",
                           headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    assert alice.upload(image["id"], b"first").status_code == 204
    again = alice.upload(image["id"], b"second")
    assert again.status_code == 409


def test_declared_size_and_md5_are_checked_and_a_mismatch_leaves_nothing(cfg, alice):
    image = alice.create(disk_format="raw", container_format="bare")
    wrong_size = alice.upload(image["id"], b"12345", **{"x-openstack-image-size": "6"})
    assert wrong_size.status_code == 400
    wrong_md5 = alice.upload(image["id"], b"12345", **{"Content-MD5": "0" * 32})
    assert wrong_md5.status_code == 400
    shown = alice.show(image["id"]).get_json()
    assert shown["status"] == "queued" and shown["size"] is None
    assert store_files(cfg) == []
    good = alice.upload(image["id"], b"12345",
                        **{"Content-MD5": hashlib.md5(b"12345").hexdigest()})
    assert good.status_code == 204


class Breaks(io.RawIOBase):
    """A client body that fails after `after` bytes, as a dropped connection does."""

    def __init__(self, after):
        self.left = after

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        size = min(len(buffer), self.left)
        buffer[:size] = b"z" * size
        self.left -= size
        return size


@pytest.mark.parametrize("body", [Breaks(3 * 1024 * 1024), io.BytesIO(b"short")])
def test_an_interrupted_upload_goes_back_to_queued_and_leaves_no_file(cfg, alice, body):
    image = alice.create(disk_format="raw", container_format="bare")
    response = alice.put(f"/v2/images/{image['id']}/file", headers=OCTETS,
                         environ_overrides={"wsgi.input": body,
                                            "CONTENT_LENGTH": str(8 * 1024 * 1024)})
    assert response.status_code == 400
    shown = alice.show(image["id"]).get_json()
    assert shown["status"] == "queued" and shown["size"] is None
    assert store_files(cfg) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("image-")]
    assert alice.upload(image["id"], b"retry").status_code == 204


@pytest.mark.parametrize("image_config", [{"image": {"image_size_total": 1,
                                                     "upload_chunk_size": 65536}}])
def test_size_quota_answers_413_before_and_during_the_upload(cfg, alice):
    first = alice.create(disk_format="raw", container_format="bare")
    assert alice.upload(first["id"], b"a" * 600 * 1024).status_code == 204
    second = alice.create(disk_format="raw", container_format="bare")
    declared = alice.upload(second["id"], b"b" * 600 * 1024)
    assert declared.status_code == 413
    assert "image_size_total" in declared.get_json()["message"]
    # No length declared (a chunked upload): the quota stops it while it streams.
    chunked = alice.put(f"/v2/images/{second['id']}/file", headers=OCTETS,
                        environ_overrides={"wsgi.input": io.BytesIO(b"c" * 600 * 1024),
                                           "wsgi.input_terminated": True})
    assert chunked.status_code == 413
    assert alice.show(second["id"]).get_json()["status"] == "queued"
    assert store_files(cfg) == [first["id"]]


def test_deactivated_images_refuse_download_except_to_admins(alice, admin):
    image = alice.create(disk_format="raw", container_format="bare")
    alice.upload(image["id"], b"payload")
    assert alice.post(f"/v2/images/{image['id']}/actions/deactivate").status_code == 204
    assert alice.show(image["id"]).get_json()["status"] == "deactivated"
    assert alice.get(f"/v2/images/{image['id']}/file").status_code == 403
    assert admin.get(f"/v2/images/{image['id']}/file").data == b"payload"
    assert alice.post(f"/v2/images/{image['id']}/actions/deactivate").status_code == 204
    assert alice.post(f"/v2/images/{image['id']}/actions/reactivate").status_code == 204
    assert alice.get(f"/v2/images/{image['id']}/file").data == b"payload"


def test_only_active_images_deactivate(alice, bob):
    image = alice.create()
    response = alice.post(f"/v2/images/{image['id']}/actions/deactivate")
    assert response.status_code == 403
    assert alice.post(f"/v2/images/{image['id']}/actions/explode").status_code == 404


def test_glance_direct_import_stages_then_imports(cfg, alice, wait_for):
    image = alice.create(disk_format="raw", container_format="bare", visibility="private")
    data = os.urandom(200 * 1024)
    staged = alice.put(f"/v2/images/{image['id']}/stage", data=data, headers=OCTETS)
    assert staged.status_code == 204
    assert alice.show(image["id"]).get_json()["status"] == "uploading"
    response = alice.post(f"/v2/images/{image['id']}/import",
                          json={"method": {"name": "glance-direct"}, "all_stores": True},
                          headers={"X-Auth-Token": alice.token})
    assert response.status_code == 202
    active = wait_for(lambda: alice.show(image["id"]).get_json()["status"] == "active")
    assert active
    shown = alice.show(image["id"]).get_json()
    assert shown["checksum"] == hashlib.md5(data).hexdigest() and shown["size"] == len(data)
    assert alice.get(f"/v2/images/{image['id']}/file").data == data
    tasks = alice.get(f"/v2/images/{image['id']}/tasks").get_json()["tasks"]
    assert len(tasks) == 1 and tasks[0]["status"] == "success"
    assert tasks[0]["request_id"] == response.headers["x-openstack-request-id"]
    assert tasks[0]["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert os.listdir(cfg.path("image-staging")) == []


def test_a_failed_import_returns_the_image_to_queued(cfg, alice, wait_for):
    image = alice.create(disk_format="raw", container_format="bare")
    alice.put(f"/v2/images/{image['id']}/stage", data=b"staged", headers=OCTETS)
    os.unlink(os.path.join(cfg.path("image-staging"), image["id"]))  # the staged data is lost
    assert alice.post(f"/v2/images/{image['id']}/import",
                      json={"method": {"name": "glance-direct"}}).status_code == 202
    assert wait_for(lambda: alice.show(image["id"]).get_json()["status"] == "queued")
    task = wait_for(lambda: [t for t in alice.get(f"/v2/images/{image['id']}/tasks")
                             .get_json()["tasks"] if t["status"] == "failure"])
    assert task and task[0]["message"]
    assert store_files(cfg) == []


@pytest.mark.parametrize("body, code", [
    ({}, 400), ({"method": "glance-direct"}, 400), ({"method": {}}, 400),
    ({"method": {"name": "web-download", "uri": "http://example.com/x"}}, 400),
    ({"method": {"name": "nonsense"}}, 400),
    ({"method": {"name": "glance-direct"}, "all_stores": "yes"}, 400),
    ({"method": {"name": "glance-direct"}}, 409),
])
def test_bad_imports_are_refused(alice, body, code):
    image = alice.create(disk_format="raw", container_format="bare")
    response = alice.post(f"/v2/images/{image['id']}/import", json=body)
    assert response.status_code == code, response.get_json()


def test_deleting_an_image_removes_its_data(cfg, alice):
    image = alice.create(disk_format="raw", container_format="bare")
    alice.upload(image["id"], b"data")
    assert store_files(cfg) == [image["id"]]
    assert alice.delete(f"/v2/images/{image['id']}").status_code == 204
    assert store_files(cfg) == []


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (qemu-utils) missing")
def test_qcow2_virtual_size_comes_from_qemu_img(tmp_path, alice):
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(path), "64M"], check=True,
                   capture_output=True)
    image = alice.create(disk_format="qcow2", container_format="bare")
    alice.upload(image["id"], path.read_bytes())
    assert alice.show(image["id"]).get_json()["virtual_size"] == 64 * 1024 * 1024
    junk = alice.create(disk_format="qcow2", container_format="bare")
    alice.upload(junk["id"], b"not a qcow2 at all")
    assert alice.show(junk["id"]).get_json()["virtual_size"] is None


def test_bootstrap_recovers_interrupted_uploads(cfg, alice):
    from undercloud.image import bootstrap
    image = alice.create(disk_format="raw", container_format="bare")
    Image.update(status="saving").where(Image.id == image["id"]).execute()
    leftover = os.path.join(cfg.path("images"), f".tmp-{image['id']}-abc")
    open(leftover, "wb").write(b"half")
    bootstrap.bootstrap(cfg)
    assert alice.show(image["id"]).get_json()["status"] == "queued"
    assert not os.path.exists(leftover)
