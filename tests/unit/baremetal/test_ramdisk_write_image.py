"""The ramdisk's image writer (write-image.sh) with the same busybox the ramdisk runs, against
a real HTTP server on loopback, writing into a file that stands in for the disk."""
import hashlib
import os
import shutil
import subprocess

import pytest

from tests.fixtures.loopback_http import serving

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "images", "deploy-ramdisk",
                      "rootfs", "usr", "lib", "stackbox", "write-image.sh")
IMAGE = bytes(range(256)) * 4096 * 5 + b"tail"  # 5 MiB and a bit: more than one 4 MiB block


@pytest.fixture(scope="module")
def server():
    """/image.raw with its Content-Length, /streamed.raw without one (HTTP/1.0, read to EOF)."""
    def streamed(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(IMAGE)

    with serving({"/image.raw": IMAGE, "/streamed.raw": streamed}) as url:
        yield url


@pytest.fixture
def disk(tmp_path):
    path = tmp_path / "disk"
    path.write_bytes(b"\xff" * (8 * 1024 * 1024))
    return path


def write_image(url, algorithm, checksum, target):
    result = subprocess.run(["busybox", "sh", SCRIPT, url, algorithm, checksum, str(target)],
                            capture_output=True, text=True)
    return result.returncode, result.stdout.strip(), result.stderr.strip()


@pytest.mark.parametrize("algorithm", ["md5", "sha256", "sha512"])
def test_the_image_lands_on_the_disk_and_its_checksum_matches(server, disk, algorithm):
    checksum = hashlib.new(algorithm, IMAGE).hexdigest()

    assert write_image(f"{server}/image.raw", algorithm, checksum, disk) == \
        (0, str(len(IMAGE)), "")
    written = disk.read_bytes()
    assert written[:len(IMAGE)] == IMAGE
    assert written[len(IMAGE):] == b"\xff" * (len(written) - len(IMAGE))  # a disk: not truncated


def test_checksums_compare_without_case(server, disk):
    checksum = hashlib.sha256(IMAGE).hexdigest().upper()

    assert write_image(f"{server}/image.raw", "sha256", checksum, disk)[0] == 0


def test_a_wrong_checksum_fails_naming_both(server, disk):
    actual = hashlib.sha256(IMAGE).hexdigest()

    assert write_image(f"{server}/image.raw", "sha256", "0" * 64, disk) == (
        1, "", f"checksum mismatch for {server}/image.raw: its sha256 is {actual}, "
               f"expected {'0' * 64}")


def test_an_http_error_fails_with_the_servers_answer(server, disk):
    code, _, reason = write_image(f"{server}/missing.raw", "md5", "x", disk)

    assert code == 1
    assert reason.startswith(f"downloading {server}/missing.raw failed: server returned error: "
                             "HTTP/1.0 404")
    assert disk.read_bytes() == b"\xff" * (8 * 1024 * 1024)


def test_an_unreachable_server_fails(disk):
    code, _, reason = write_image("http://127.0.0.1:1/image.raw", "md5", "x", disk)

    assert code == 1 and "can't connect to remote host" in reason


def test_an_answer_without_content_length_fails(server, disk):
    checksum = hashlib.md5(IMAGE).hexdigest()

    assert write_image(f"{server}/streamed.raw", "md5", checksum, disk) == \
        (1, "", f"the server of {server}/streamed.raw sent no Content-Length")


@pytest.mark.parametrize("algorithm, checksum, target, reason", [
    ("sha1", "x", None, "unsupported checksum_algo 'sha1': use md5, sha256 or sha512"),
    ("md5", "", None, "no checksum given for {url}"),
    ("md5", "x", "/nonexistent/vdz", "no disk /nonexistent/vdz to write the image to"),
])
def test_bad_parameters_fail_before_downloading(server, disk, algorithm, checksum, target,
                                                reason):
    url = f"{server}/image.raw"

    assert write_image(url, algorithm, checksum, target or disk) == \
        (1, "", reason.format(url=url))
