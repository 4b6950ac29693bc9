"""A node's config drive as Ironic takes it ("configdrive" of PUT /v1/nodes/{id}/states/provision
for active and rebuild, kept in instance_info) and the ISO 9660 image it becomes.

The value is either a JSON object (API 1.56; vendor_data 1.59) with optional meta_data,
network_data, user_data and vendor_data, which becomes an ISO labelled config-2 in Nova's
layout (Ironic's build_configdrive: meta_data as given, plus the node's uuid and name when
missing; user_data as text, or JSON when an object or a list; vendor_data as
vendor_data2.json); or a string: base64 of a gzipped ISO (what `openstack baremetal node
deploy --config-drive DIR|FILE` sends), or an http(s) URL the conductor downloads, answering
such a string or the ISO itself. The ISO is at most 64 MiB, the ramdisk's partition for it
(IPA's limit).

Its content is the user's: no message here quotes it.
"""
import base64
import binascii
import gzip
import http.client
import io
import json
import string
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

from undercloud.common.files import write_secret
from undercloud.host.configdrive import openstack_files, write_iso

MIB = 1024 * 1024
MAX_BYTES = 64 * MIB
# driver_internal_info: where the ramdisk downloads the published ISO ({"url", "size"});
# the URL opens the drive, so the API never shows it.
PUBLISHED_NOTE = "deploy_configdrive"
KEYS = ("meta_data", "network_data", "user_data", "vendor_data")
OBJECT_KEYS = ("meta_data", "network_data", "vendor_data")
# Ironic's check, newlines and spaces included as base64 text often has them.
B64_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/=\n\r\t ")
URL_SCHEMES = ("http", "https")
# Base64 of a gzipped 64 MiB ISO stays under this even when nothing compresses.
MAX_DOWNLOAD = 2 * MAX_BYTES
FETCH_SECONDS = 60
CHUNK = MIB
ISO_MAGIC_AT = 32769   # "CD001" of the first volume descriptor, in sector 16


class InvalidConfigDrive(ValueError):
    """The value is no config drive; the message says why without quoting it."""


def is_url(value) -> bool:
    # ":" is not base64, so "://" tells a URL from a packed drive (Ironic's test).
    return isinstance(value, str) and "://" in value


def check(value) -> None:
    """The value's form, as Ironic's API checks it (InvalidConfigDrive when wrong)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(KEYS))
        if unknown:
            raise InvalidConfigDrive(f"unknown key {', '.join(map(repr, unknown))}: a config "
                                     f"drive object takes {', '.join(KEYS)}")
        for key in OBJECT_KEYS:
            if key in value and not isinstance(value[key], dict):
                raise InvalidConfigDrive(f"{key} must be a JSON object")
        if not isinstance(value.get("user_data"), (str, dict, list, type(None))):
            raise InvalidConfigDrive("user_data must be a string, a JSON object or a list")
    elif is_url(value):
        scheme = urllib.parse.urlsplit(value).scheme.lower()
        if scheme not in URL_SCHEMES:
            raise InvalidConfigDrive(f"a config drive URL must be http or https, not {scheme!r}")
    elif not isinstance(value, str) or set(value) - B64_ALPHABET:
        raise InvalidConfigDrive("it is neither a JSON object, nor a URL, nor a base64 string")


def write(node_id: str, node_name: str | None, value, path: str) -> int:
    """Write the value's ISO to `path` (mode 0600); returns its size in bytes.
    ConfigDriveError (compute) when xorriso cannot build one."""
    check(value)
    if isinstance(value, dict):
        write_iso(_files(node_id, node_name, value), path, f"node {node_id}", mode=0o600)
        with open(path, "rb") as stream:
            size = stream.seek(0, io.SEEK_END)
        if size > MAX_BYTES:
            raise InvalidConfigDrive(f"its ISO 9660 image is {_mib(size)} MiB, more than the "
                                     f"maximum of {MAX_BYTES // MIB} MiB")
        return size
    iso = unpack(fetch(value) if is_url(value) else value)
    write_secret(path, iso)
    return len(iso)


def _files(node_id: str, node_name: str | None, value: dict) -> dict[str, bytes]:
    meta_data = dict(value.get("meta_data") or {})
    meta_data.setdefault("uuid", node_id)
    if node_name:
        meta_data.setdefault("name", node_name)
    documents = {"meta_data.json": json.dumps(meta_data).encode()}
    user_data = value.get("user_data")
    if isinstance(user_data, (dict, list)):
        documents["user_data"] = json.dumps(user_data).encode()
    elif user_data:
        documents["user_data"] = user_data.encode()
    if value.get("network_data"):
        documents["network_data.json"] = json.dumps(value["network_data"]).encode()
    if value.get("vendor_data"):
        documents["vendor_data2.json"] = json.dumps(value["vendor_data"]).encode()
    return openstack_files(documents)


def unpack(data: str | bytes) -> bytes:
    """The ISO in base64 of its gzip (or, downloaded, the ISO itself, as IPA takes it)."""
    if isinstance(data, bytes) and _is_iso(data):
        iso = data
    else:
        try:
            packed = base64.b64decode(data)
        except (binascii.Error, ValueError) as exc:
            raise InvalidConfigDrive(f"it is not base64 encoded or the content is malformed "
                                     f"({exc})") from None
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(packed)) as stream:
                iso = stream.read(MAX_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            raise InvalidConfigDrive("it is not gzipped: send base64 of a gzipped ISO 9660 "
                                     "image, as `openstack baremetal node deploy "
                                     "--config-drive DIR` makes") from None
    if len(iso) > MAX_BYTES:
        raise InvalidConfigDrive(f"its ISO 9660 image exceeds the maximum of "
                                 f"{MAX_BYTES // MIB} MiB")
    if not _is_iso(iso):
        raise InvalidConfigDrive("it is not an ISO 9660 image (no CD001 volume descriptor at "
                                 f"byte {ISO_MAGIC_AT})")
    return iso


def _is_iso(data: bytes) -> bool:
    return data[ISO_MAGIC_AT:ISO_MAGIC_AT + 5] == b"CD001"


def _mib(size: int) -> int:
    return -(-size // MIB)


class _HttpRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect to ftp://; a config drive stays on http(s)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).scheme.lower() not in URL_SCHEMES:
            raise urllib.error.HTTPError(newurl, code, "a redirect away from http(s) "
                                         "is refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str) -> bytes:
    """The answer at an http(s) URL: at most MAX_DOWNLOAD bytes within FETCH_SECONDS."""
    opener = urllib.request.build_opener(_HttpRedirectsOnly)
    deadline = time.monotonic() + FETCH_SECONDS
    chunks, size = [], 0
    try:
        with opener.open(url, timeout=FETCH_SECONDS) as response:
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if size > MAX_DOWNLOAD:
                    raise InvalidConfigDrive(f"the answer of {url} is larger than "
                                             f"{MAX_DOWNLOAD // MIB} MiB")
                if time.monotonic() > deadline:
                    raise InvalidConfigDrive(f"downloading {url} took more than "
                                             f"{FETCH_SECONDS} s")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        raise InvalidConfigDrive(f"cannot download it from {url}: HTTP {exc.code} "
                                 f"{exc.reason}") from None
    except urllib.error.URLError as exc:
        raise InvalidConfigDrive(f"cannot download it from {url}: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise InvalidConfigDrive(f"cannot download it from {url}: "
                                 f"{exc.__class__.__name__}: {exc}") from None
    return b"".join(chunks)
