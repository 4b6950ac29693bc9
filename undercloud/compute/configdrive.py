"""The config drive: an ISO 9660 disc labelled config-2 that tells a guest who it is.

Same layout as Nova's, so cloud-init, cirros and our tiny guest read it unchanged:
openstack/<version>/{meta_data.json, user_data, network_data.json, vendor_data.json,
vendor_data2.json} for each dated version and `latest`, plus EC2's
ec2/<version>/{meta-data.json, user-data}. The disc itself is host/configdrive.py's, which
the bare-metal conductor writes its nodes' drives with too.
"""
import base64
import dataclasses
import json
import os
import re

from undercloud.host.configdrive import (  # noqa: F401 (compute's API too)
    LABEL, OPENSTACK_VERSIONS, ConfigDriveError, openstack_files, write_iso)

EC2_VERSIONS = ["2009-04-04", "latest"]


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


def hostname_for(name: str) -> str:
    """Nova's sanitize_hostname: lower case, letters, digits and '-', at most 63, never empty."""
    hostname = re.sub(r"[ _.]", "-", name.lower())
    hostname = re.sub(r"[^a-z0-9-]+", "", hostname)
    hostname = hostname.strip("-")[:63].strip("-")
    return hostname or "server"
