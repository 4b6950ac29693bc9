"""Deploy images: a Glance image downloaded with the caller's token (checked against Glance's
checksums, its format probed, backing files refused, as the compute image cache does),
converted to raw, and published to nodes over HTTP at an unguessable path.

    <folder>/downloads/        the compute ImageCache, emptied once converted
    <folder>/raw/<key>.raw     the raw image (<key>: image id + checksum), with <key>.json
                               holding its sha256 and size
    <published>/<random>/<node>.raw   a hard link per node deploying it

A raw image lives while some node's link does: the last unpublish removes it, and a start
removes whatever a crash left half made or unused.
"""
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import threading

from undercloud.client.http import CloudError
from undercloud.common.files import write_atomic
from undercloud.host.disks import ImageCache
from undercloud.host.errors import DriverError

LOG = logging.getLogger(__name__)
CHUNK = 1024 * 1024
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# qemu-img can take minutes to expand a large image; an hour means it hangs.
CONVERT_TIMEOUT = 3600


class ImageError(Exception):
    """An image cannot be made ready for a node; the message names it and why."""


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class DeployImages:
    def __init__(self, folder: str, published: str, client):
        self.raw = os.path.join(folder, "raw")
        self.downloads = ImageCache(os.path.join(folder, "downloads"))
        self.published = published
        self.client = client                 # undercloud.compute.images.ImageClient
        self._lock = threading.Lock()        # links and unlinks of raw images
        self._key_locks: dict[str, threading.Lock] = {}

    def clean_leftovers(self) -> None:
        """What a crash left: downloads, half-converted or unused raw images, empty folders."""
        shutil.rmtree(self.downloads.folder, ignore_errors=True)
        os.makedirs(self.raw, mode=0o755, exist_ok=True)
        os.makedirs(self.published, mode=0o755, exist_ok=True)
        for name in os.listdir(self.published):
            folder = os.path.join(self.published, name)
            if os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
        for name in os.listdir(self.raw):
            key = name.split(".")[0]
            if name not in (f"{key}.raw", f"{key}.json") or not self._in_use(key):
                LOG.info("removing %s left by an earlier run", name)
                self._remove(name)

    def _in_use(self, key: str) -> bool:
        path = os.path.join(self.raw, f"{key}.raw")
        return os.path.exists(os.path.join(self.raw, f"{key}.json")) and \
            os.path.exists(path) and os.stat(path).st_nlink > 1

    def _remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.raw, name))

    def publish(self, token: str, image_id: str, node_id: str) -> dict:
        """{"path": <random>/<node>.raw under the published folder, "checksum" (sha256),
        "size"}; a node's earlier publication is replaced."""
        if not SAFE_ID.match(node_id):
            raise ImageError(f"node id {node_id!r} cannot name an image file")
        context = {"token": token}
        try:
            image = self.client.get(context, image_id)
        except CloudError as exc:
            raise ImageError(f"image {image_id}: {exc}") from None
        if image.get("status") != "active":
            raise ImageError(f"image {image_id} is {image.get('status')}, not active; "
                             f"upload its data first")
        checksums = {}
        if image.get("checksum"):
            checksums["md5"] = image["checksum"]
        if image.get("os_hash_algo") and image.get("os_hash_value"):
            checksums[image["os_hash_algo"]] = image["os_hash_value"]
        if not checksums:
            raise ImageError(f"image {image_id} has no checksum to verify its data with")
        key = f"{image_id}-{(image.get('os_hash_value') or image['checksum'])[:16]}"
        if not SAFE_ID.match(image_id) or not SAFE_ID.match(key):
            raise ImageError(f"image id {image_id!r} cannot name a cache file")
        raw = os.path.join(self.raw, f"{key}.raw")
        with self._key_lock(key):
            while True:
                details = self._raw(context, image_id, key, checksums)
                with self._lock:
                    # Another node's unpublish may have dropped the raw image meanwhile.
                    if os.path.exists(raw):
                        folder = os.path.join(self.published, secrets.token_urlsafe(24))
                        os.makedirs(folder, mode=0o755)
                        os.link(raw, os.path.join(folder, f"{node_id}.raw"))
                        # Linked first: an old link to the same image must not take it along.
                        self._unlink(node_id, keep=os.path.basename(folder))
                        break
        relative = f"{os.path.basename(folder)}/{node_id}.raw"
        LOG.info("image %s published for node %s (%d bytes raw)", image_id, node_id,
                 details["size"])
        return {"path": relative, "checksum": details["sha256"], "size": details["size"]}

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _raw(self, context: dict, image_id: str, key: str, checksums: dict) -> dict:
        """The raw image's {"sha256", "size"}, downloading and converting it if absent."""
        raw = os.path.join(self.raw, f"{key}.raw")
        recorded = os.path.join(self.raw, f"{key}.json")
        if os.path.exists(raw) and os.path.exists(recorded):
            with open(recorded) as stream:
                return json.load(stream)
        os.makedirs(self.raw, mode=0o755, exist_ok=True)
        try:
            found = self.downloads.fetch(key, lambda: self.client.data(context, image_id),
                                         checksums)
        except (DriverError, CloudError) as exc:  # the cache's checks, or the image service
            raise ImageError(str(exc)) from None
        partial = raw + ".part"
        try:
            LOG.info("converting image %s from %s to raw", image_id, found.format)
            result = subprocess.run(["qemu-img", "convert", "-f", found.format, "-O", "raw",
                                     found.path, partial], capture_output=True, text=True,
                                    timeout=CONVERT_TIMEOUT)
            if result.returncode != 0:
                raise ImageError(f"image {image_id}: qemu-img cannot convert it to raw: "
                                 f"{result.stderr.strip()[-500:]}")
            details = {"sha256": sha256(partial), "size": os.path.getsize(partial)}
            os.replace(partial, raw)
            write_atomic(recorded, json.dumps(details))
        finally:
            self._remove(os.path.basename(partial))
            self.downloads.remove(key)
        return details

    def unpublish(self, node_id: str) -> None:
        """Remove the node's links, and each raw image no node links to any more."""
        with self._lock:
            self._unlink(node_id)

    def _unlink(self, node_id: str, keep: str | None = None) -> None:
        if not os.path.isdir(self.published):
            return
        for name in os.listdir(self.published):
            if name == keep:
                continue
            path = os.path.join(self.published, name, f"{node_id}.raw")
            if not os.path.exists(path):
                continue
            inode = os.stat(path).st_ino
            os.unlink(path)
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(path))
            LOG.info("image unpublished for node %s", node_id)
            for raw in os.listdir(self.raw):
                if not raw.endswith(".raw"):
                    continue
                found = os.stat(os.path.join(self.raw, raw))
                if found.st_ino == inode and found.st_nlink == 1:
                    self._remove(raw)
                    self._remove(raw[:-len(".raw")] + ".json")
