"""STATE_DIR/overcloud/clouds.yaml (the cloud `overcloud`) and STATE_DIR/overcloud/admin-password,
both 0600: how the operator, the openstack CLI and `stackbox overcloud status` reach the
overcloud once it is deployed."""
import os

import yaml

from undercloud.common.files import write_secret
from undercloud.serve.clouds import admin_cloud

CLOUD_NAME = "overcloud"
IDENTITY_PORT = 5000
CLOUDS = os.path.join("overcloud", "clouds.yaml")
ADMIN_PASSWORD = os.path.join("overcloud", "admin-password")


def clouds_path(state_dir: str) -> str:
    return os.path.join(state_dir, CLOUDS)


def cloud(control_address: str, password: str) -> dict:
    return admin_cloud(f"http://{control_address}:{IDENTITY_PORT}", password, "RegionOne")


def write(state_dir: str, control_address: str, password: str) -> tuple[str, str]:
    """Both files, mode 0600 (they hold the admin password); returns their paths."""
    clouds = clouds_path(state_dir)
    document = {"clouds": {CLOUD_NAME: cloud(control_address, password)}}
    write_secret(clouds, yaml.safe_dump(document, sort_keys=False))
    password_path = os.path.join(state_dir, ADMIN_PASSWORD)
    write_secret(password_path, password + "\n")
    return clouds, password_path


def read(state_dir: str) -> dict | None:
    """The `overcloud` cloud from STATE_DIR/overcloud/clouds.yaml, or None."""
    try:
        with open(clouds_path(state_dir)) as source:
            document = yaml.safe_load(source) or {}
    except FileNotFoundError:
        return None
    return (document.get("clouds") or {}).get(CLOUD_NAME)
