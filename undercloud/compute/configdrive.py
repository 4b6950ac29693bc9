"""The config drive: an ISO 9660 disc labelled config-2 that tells a guest who it is.

Same layout as Nova's, so cloud-init, cirros and our tiny guest read it unchanged:
openstack/<version>/{meta_data.json, user_data, network_data.json, vendor_data.json,
vendor_data2.json} for each dated version and `latest`, plus EC2's
ec2/<version>/{meta-data.json, user-data}. Built with xorriso (Debian package), never mounted.
The bare-metal conductor writes its config drives with the same layout and writer
(openstack_files, write_iso).
"""
import base64
import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile

LABEL = "config-2"
# (version, newest file set): a dated folder carries what that metadata version had.
OPENSTACK_VERSIONS = [
    ("2012-08-10", {"meta_data.json", "user_data"}),
    ("2013-04-04", {"meta_data.json", "user_data"}),
    ("2013-10-17", {"meta_data.json", "user_data", "vendor_data.json"}),
    ("2015-10-15", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json"}),
    ("2016-06-30", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json"}),
    ("2016-10-06", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                    "vendor_data2.json"}),
    ("2017-02-22", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                    "vendor_data2.json"}),
    ("2018-08-27", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                    "vendor_data2.json"}),
    ("latest", {"meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                "vendor_data2.json"}),
]
EC2_VERSIONS = ["2009-04-04", "latest"]


class ConfigDriveError(Exception):
    """The ISO could not be written; the message names the instance and the cause."""


@dataclasses.dataclass
class Keypair:
    name: str
    public_key: str
    type: str = "ssh"


@dataclasses.dataclass
class ConfigDrive:
    """What the guest learns at boot. `hostname` defaults to one made from `name`."""
    uuid: str
    name: str
    project_id: str = ""
    hostname: str | None = None
    availability_zone: str = "nova"
    launch_index: int = 0
    keys: list[Keypair] = dataclasses.field(default_factory=list)
    meta: dict[str, str] = dataclasses.field(default_factory=dict)
    user_data: bytes | None = None
    network_data: dict | None = None
    vendor_data: dict = dataclasses.field(default_factory=dict)
    admin_pass: str | None = None
    flavor_name: str | None = None
    reservation_id: str | None = None

    def meta_data(self) -> dict:
        """openstack/latest/meta_data.json."""
        document = {
            "uuid": self.uuid,
            "name": self.name,
            "hostname": self.hostname or hostname_for(self.name),
            "availability_zone": self.availability_zone,
            "launch_index": self.launch_index,
            "project_id": self.project_id,
            "meta": dict(self.meta),
            "public_keys": {key.name: key.public_key for key in self.keys},
            "keys": [{"name": key.name, "type": key.type, "data": key.public_key}
                     for key in self.keys],
            "devices": [],
            # Guests seed their RNG from this, as on Nova.
            "random_seed": base64.b64encode(os.urandom(512)).decode(),
        }
        if self.admin_pass is not None:
            document["admin_pass"] = self.admin_pass
        return document

    def ec2_meta_data(self) -> dict:
        """ec2/latest/meta-data.json: the subset of EC2's fields Stackbox knows."""
        hostname = self.hostname or hostname_for(self.name)
        document = {
            "ami-launch-index": self.launch_index,
            "hostname": hostname,
            "local-hostname": hostname,
            "public-hostname": hostname,
            "instance-id": "i-" + self.uuid.replace("-", "")[:8],
            "instance-action": "none",
            "placement": {"availability-zone": self.availability_zone},
            "public-keys": {str(index): {"openssh-key": key.public_key}
                            for index, key in enumerate(self.keys)},
        }
        if self.flavor_name:
            document["instance-type"] = self.flavor_name
        if self.reservation_id:
            document["reservation-id"] = self.reservation_id
        return document

    def files(self) -> dict[str, bytes]:
        """Every file on the drive, by its path on the ISO."""
        documents = {
            "meta_data.json": _json(self.meta_data()),
            "network_data.json": _json(self.network_data if self.network_data is not None
                                       else {"links": [], "networks": [], "services": []}),
            "vendor_data.json": _json({}),
            "vendor_data2.json": _json(self.vendor_data),
        }
        if self.user_data is not None:
            documents["user_data"] = self.user_data
        files = openstack_files(documents)
        ec2 = _json(self.ec2_meta_data())
        for version in EC2_VERSIONS:
            files[f"ec2/{version}/meta-data.json"] = ec2
            if self.user_data is not None:
                files[f"ec2/{version}/user-data"] = self.user_data
        return files

    def write(self, path: str) -> str:
        """Write the ISO to `path` in one step (a reader never sees half a drive)."""
        return write_iso(self.files(), path, f"instance {self.uuid}")


def _json(document) -> bytes:
    return json.dumps(document, sort_keys=True).encode()


def openstack_files(documents: dict[str, bytes]) -> dict[str, bytes]:
    """openstack/<version>/<name> for each document (meta_data.json, user_data...) in every
    metadata version that had it: Nova's layout."""
    files = {}
    for version, names in OPENSTACK_VERSIONS:
        for name in names & documents.keys():
            files[f"openstack/{version}/{name}"] = documents[name]
    return files


def write_iso(files: dict[str, bytes], path: str, owner: str, mode: int = 0o644) -> str:
    """Write `files` (path on the ISO -> content) as an ISO labelled config-2 to `path` in one
    step, with `mode`; `owner` ("instance <uuid>") names whose drive it is in errors."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".configdrive-") as scratch:
        tree = os.path.join(scratch, "tree")
        for relative, content in files.items():
            target = os.path.join(tree, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as stream:
                stream.write(content)
        iso = os.path.join(scratch, "disk.config")
        _make_iso(owner, tree, iso)
        os.chmod(iso, mode)
        os.replace(iso, path)
    return path


def _make_iso(owner, tree, iso):
    # Nova's genisoimage arguments, in xorriso's mkisofs emulation: Joliet + Rock Ridge.
    command = ["xorriso", "-as", "mkisofs", "-o", iso, "-ldots", "-allow-lowercase",
               "-allow-multidot", "-l", "-publisher", "Stackbox", "-quiet", "-J", "-r",
               "-V", LABEL, tree]
    if shutil.which("xorriso") is None:
        raise ConfigDriveError(f"cannot build the config drive of {owner}: xorriso is "
                               "not installed (Debian package xorriso)")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigDriveError(f"cannot build the config drive of {owner}: xorriso "
                               f"exited {result.returncode}: {result.stderr.strip()[-500:]}")


def hostname_for(name: str) -> str:
    """Nova's sanitize_hostname: lower case, letters, digits and '-', at most 63, never empty."""
    hostname = re.sub(r"[ _.]", "-", name.lower())
    hostname = re.sub(r"[^a-z0-9-]+", "", hostname)
    hostname = hostname.strip("-")[:63].strip("-")
    return hostname or "server"
