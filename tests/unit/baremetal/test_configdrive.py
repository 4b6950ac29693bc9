"""A node's config drive as Ironic takes it: the API's checks of its form, the ISO a JSON
object becomes (read back with xorriso), and the ISO inside base64 of a gzip, given or
downloaded from a loopback server."""
import base64
import gzip
import json
import shutil

import pytest

from tests.fixtures.iso import extract
from tests.fixtures.loopback_http import serving
from undercloud.baremetal import configdrive
from undercloud.baremetal.configdrive import InvalidConfigDrive
from undercloud.host.configdrive import ConfigDriveError

needs_xorriso = pytest.mark.skipif(shutil.which("xorriso") is None,
                                   reason="xorriso is not installed (Debian package xorriso)")
NODE, NAME = "1be26c0b-03f2-4d2e-ae87-c02d7f33c781", "node-0"
SECRET = "s3cret-in-the-drive"
ISO = bytes(32768) + b"\x01CD001\x01" + bytes(2041) + SECRET.encode() * 100
PACKED = base64.b64encode(gzip.compress(ISO)).decode()


@pytest.mark.parametrize("value", [
    {}, {"meta_data": {"hostname": "h"}, "network_data": {"links": []},
         "user_data": "#cloud-config\n", "vendor_data": {"a": 1}},
    {"user_data": {"runcmd": []}}, {"user_data": ["x"]}, {"user_data": None},
    PACKED, PACKED[:40] + "\n" + PACKED[40:], "http://192.0.2.9/cd", "HTTPS://192.0.2.9/cd",
])
def test_the_forms_ironic_takes(value):
    configdrive.check(value)


@pytest.mark.parametrize("value, reason", [
    ({"meta_data": {}, "extra": 1}, "unknown key 'extra': a config drive object takes "
                                    "meta_data, network_data, user_data, vendor_data"),
    ({"meta_data": [SECRET]}, "meta_data must be a JSON object"),
    ({"network_data": SECRET}, "network_data must be a JSON object"),
    ({"vendor_data": None}, "vendor_data must be a JSON object"),
    ({"user_data": 7}, "user_data must be a string, a JSON object or a list"),
    (f"{SECRET}!", "it is neither a JSON object, nor a URL, nor a base64 string"),
    (["a"], "it is neither a JSON object, nor a URL, nor a base64 string"),
    ("file:///etc/shadow", "a config drive URL must be http or https, not 'file'"),
    ("ftp://192.0.2.9/cd", "a config drive URL must be http or https, not 'ftp'"),
])
def test_other_forms_are_refused_without_quoting_them(value, reason):
    with pytest.raises(InvalidConfigDrive) as caught:
        configdrive.check(value)
    assert str(caught.value) == reason


@needs_xorriso
def test_an_object_becomes_novas_layout_with_ironics_defaults(tmp_path):
    path = tmp_path / "drive.iso"
    size = configdrive.write(NODE, NAME, {
        "meta_data": {"hostname": "web-1", "public_keys": {"0": "ssh-ed25519 AAAA me"}},
        "network_data": {"links": [{"id": "eth0"}], "networks": [], "services": []},
        "user_data": "#!/bin/sh\necho hi\n", "vendor_data": {"motd": "hi"}}, str(path))

    assert size == path.stat().st_size and oct(path.stat().st_mode & 0o777) == "0o600"
    data = path.read_bytes()
    assert data[32768:32774] == b"\x01CD001" and data[32808:32840].decode().rstrip() == "config-2"
    files = extract(path, tmp_path / "out")
    assert json.loads(files["openstack/latest/meta_data.json"]) == {
        "hostname": "web-1", "public_keys": {"0": "ssh-ed25519 AAAA me"}, "uuid": NODE,
        "name": NAME}
    assert files["openstack/latest/user_data"] == b"#!/bin/sh\necho hi\n"
    assert json.loads(files["openstack/latest/network_data.json"])["links"] == [{"id": "eth0"}]
    assert json.loads(files["openstack/latest/vendor_data2.json"]) == {"motd": "hi"}
    # Each dated version holds what it had, as on Nova; no EC2 tree, as Ironic writes none.
    assert files["openstack/2012-08-10/meta_data.json"] == \
        files["openstack/latest/meta_data.json"]
    assert "openstack/2012-08-10/network_data.json" not in files
    assert "openstack/2015-10-15/network_data.json" in files
    assert "openstack/2016-10-06/vendor_data2.json" in files
    assert not [name for name in files if name.startswith("ec2/")]


@needs_xorriso
def test_the_callers_uuid_and_name_win_and_only_what_was_sent_is_written(tmp_path):
    path = tmp_path / "drive.iso"
    configdrive.write(NODE, None, {"meta_data": {"uuid": "mine", "name": "n"},
                                   "user_data": {"runcmd": ["true"]}}, str(path))

    files = extract(path, tmp_path / "out")
    assert json.loads(files["openstack/latest/meta_data.json"]) == {"uuid": "mine", "name": "n"}
    assert json.loads(files["openstack/latest/user_data"]) == {"runcmd": ["true"]}
    assert {name.rsplit("/", 1)[1] for name in files} == {"meta_data.json", "user_data"}


@needs_xorriso
def test_an_empty_object_still_tells_the_node_who_it_is(tmp_path):
    path = tmp_path / "drive.iso"
    configdrive.write(NODE, NAME, {}, str(path))

    files = extract(path, tmp_path / "out")
    assert json.loads(files["openstack/latest/meta_data.json"]) == {"uuid": NODE, "name": NAME}
    assert "openstack/latest/user_data" not in files


@needs_xorriso
def test_an_object_whose_iso_is_too_large_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(configdrive, "MAX_BYTES", 1024 * 1024)

    # 200 kB of user data in each of the 9 metadata versions.
    with pytest.raises(InvalidConfigDrive, match=r"^its ISO 9660 image is [23] MiB, more than "
                                                 r"the maximum of 1 MiB$"):
        configdrive.write(NODE, NAME, {"user_data": "x" * 200000}, str(tmp_path / "d.iso"))


def test_without_xorriso_the_error_names_the_node(tmp_path, monkeypatch):
    monkeypatch.setattr("undercloud.host.configdrive.shutil.which", lambda name: None)

    with pytest.raises(ConfigDriveError, match=f"node {NODE}: xorriso is not installed"):
        configdrive.write(NODE, NAME, {}, str(tmp_path / "d.iso"))


def test_base64_of_a_gzip_is_unpacked_to_the_iso(tmp_path):
    path = tmp_path / "drive.iso"

    assert configdrive.write(NODE, NAME, PACKED, str(path)) == len(ISO)
    assert path.read_bytes() == ISO and oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("value, reason", [
    ("abcde", "it is not base64 encoded or the content is malformed"),
    (base64.b64encode(ISO).decode(), "it is not gzipped: send base64 of a gzipped ISO 9660 "
                                     "image, as `openstack baremetal node deploy "
                                     "--config-drive DIR` makes"),
    (base64.b64encode(gzip.compress(SECRET.encode() * 9000)).decode(),
     "it is not an ISO 9660 image (no CD001 volume descriptor at byte 32769)"),
    (base64.b64encode(gzip.compress(bytes(64 * 1024 * 1024 + 1))).decode(),
     "its ISO 9660 image exceeds the maximum of 64 MiB"),
])
def test_what_is_no_packed_iso_is_refused_without_quoting_it(tmp_path, value, reason):
    with pytest.raises(InvalidConfigDrive) as caught:
        configdrive.write(NODE, NAME, value, str(tmp_path / "drive.iso"))
    assert str(caught.value).startswith(reason) and SECRET not in str(caught.value)
    assert not (tmp_path / "drive.iso").exists()


@pytest.fixture(scope="module")
def server():
    """/packed: base64 of the gzipped ISO; /iso: the ISO itself; /ftp: a redirect to ftp://;
    /huge: more than any config drive; others 404."""
    def redirect_to_ftp(handler):
        handler.send_response(302)
        handler.send_header("Location", "ftp://127.0.0.1/drive")
        handler.end_headers()

    def huge(handler):
        handler.send_response(200)
        handler.end_headers()
        for _ in range(2 * 64 + 1):
            handler.wfile.write(bytes(1024 * 1024))

    with serving({"/packed": PACKED.encode(), "/iso": ISO, "/ftp": redirect_to_ftp,
                  "/huge": huge}) as url:
        yield url


@pytest.mark.parametrize("path", ["/packed", "/iso"])
def test_a_url_is_downloaded_packed_or_as_the_iso_itself(server, tmp_path, path):
    target = tmp_path / "drive.iso"

    assert configdrive.write(NODE, NAME, f"{server}{path}", str(target)) == len(ISO)
    assert target.read_bytes() == ISO


@pytest.mark.parametrize("path, reason", [
    ("/missing", "cannot download it from {url}: HTTP 404 Not Found"),
    ("/ftp", "cannot download it from {url}: HTTP 302 a redirect away from http(s) is refused"),
    ("/huge", "the answer of {url} is larger than 128 MiB"),
])
def test_a_url_that_gives_no_config_drive_is_refused(server, tmp_path, path, reason):
    url = f"{server}{path}"

    with pytest.raises(InvalidConfigDrive) as caught:
        configdrive.write(NODE, NAME, url, str(tmp_path / "drive.iso"))
    assert str(caught.value) == reason.format(url=url)


def test_an_unreachable_url_is_refused_saying_why(tmp_path):
    with pytest.raises(InvalidConfigDrive, match="cannot download it from http://127.0.0.1:1/"
                                                 "cd: .*[Cc]onnection refused"):
        configdrive.write(NODE, NAME, "http://127.0.0.1:1/cd", str(tmp_path / "drive.iso"))
