"""Config drives published to nodes over HTTP beside their deploy images, each at an
unguessable path, readable by the conductor alone:

    <folder>/<random>/<node>.iso

One per node: publishing again replaces it, unpublish removes it. A start removes what a
crash left half made, never a drive a waiting node still needs.
"""
import logging
import os
import secrets
import shutil

from undercloud.baremetal import configdrive

LOG = logging.getLogger(__name__)
SUFFIX = ".iso"


class ConfigDrives:
    def __init__(self, folder: str):
        self.folder = folder

    def clean_leftovers(self) -> None:
        """Half-written drives (and their scratch folders), and folders left empty."""
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        for name in os.listdir(self.folder):
            folder = os.path.join(self.folder, name)
            if not os.path.isdir(folder):
                continue
            for entry in os.listdir(folder):
                if not entry.endswith(SUFFIX):
                    LOG.info("removing %s, left half made by an earlier run", entry)
                    _remove(os.path.join(folder, entry))
            if not os.listdir(folder):
                os.rmdir(folder)

    def publish(self, node_id: str, node_name: str | None, value) -> dict:
        """Write the node's config drive from Ironic's value (configdrive.write); returns
        {"path": <random>/<node>.iso under the folder, "size"}. InvalidConfigDrive when the
        value is no config drive. Node ids are UUIDs, safe as file names."""
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        random = secrets.token_urlsafe(24)
        folder = os.path.join(self.folder, random)
        os.mkdir(folder, mode=0o700)
        partial = os.path.join(folder, f"{node_id}.part")
        try:
            size = configdrive.write(node_id, node_name, value, partial)
            os.replace(partial, os.path.join(folder, f"{node_id}{SUFFIX}"))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.unpublish(node_id, keep=random)
        LOG.info("config drive published for node %s (%d bytes)", node_id, size)
        return {"path": f"{random}/{node_id}{SUFFIX}", "size": size}

    def unpublish(self, node_id: str, keep: str | None = None) -> None:
        """Remove the node's config drives (but the one in folder `keep`)."""
        if not os.path.isdir(self.folder):
            return
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name, f"{node_id}{SUFFIX}")
            if name == keep or not os.path.exists(path):
                continue
            os.unlink(path)
            if not os.listdir(os.path.dirname(path)):
                os.rmdir(os.path.dirname(path))
            LOG.info("config drive unpublished for node %s", node_id)


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)
