"""What a guest is told about itself (config drive and metadata API alike), from an
instance record."""
import base64
import binascii

from undercloud.compute import vifs
from undercloud.compute.configdrive import ConfigDrive, Keypair


def user_data(record: dict) -> bytes | None:
    text = record.get("user_data")
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return text.encode()


def drive_for(record: dict) -> ConfigDrive:
    keys = []
    if record.get("key_name") and record.get("key_data"):
        keys.append(Keypair(name=record["key_name"], public_key=record["key_data"],
                            type=(record.get("system_metadata") or {}).get("key_type", "ssh")))
    flavor = record.get("flavor") or {}
    return ConfigDrive(uuid=record["id"], name=record["display_name"],
                       project_id=record.get("project_id") or "",
                       hostname=record.get("hostname") or None,
                       availability_zone=record.get("availability_zone") or "nova",
                       launch_index=record.get("launch_index") or 0, keys=keys,
                       meta={str(k): str(v) for k, v in (record.get("metadata") or {}).items()},
                       user_data=user_data(record),
                       network_data=vifs.network_data(record.get("network_info") or []),
                       flavor_name=flavor.get("name"),
                       reservation_id=record.get("reservation_id"))
