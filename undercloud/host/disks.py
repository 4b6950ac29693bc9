"""Instance disks: the image cache (DATA_DIR/compute/_base), a qcow2 overlay per instance,
resize, delete, and snapshot export. Everything goes through qemu-img.

The cache takes a callable that yields the image's bytes, so it needs no image API client.
Cached bases are read-only to guests and shared by every instance booted from the image.
"""
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping

from undercloud.host.errors import DiskError, ImageError

LOG = logging.getLogger(__name__)
GIB = 1024 ** 3
# Formats a guest may boot from; anything else (vmdk, vhd...) is refused, not guessed at.
BOOTABLE_FORMATS = ("qcow2", "raw")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclasses.dataclass
class DiskInfo:
    path: str
    format: str
    virtual_size: int  # bytes
    backing_file: str | None = None


@dataclasses.dataclass
class InstanceFiles:
    """Where one instance's files live: instances/<uuid>/{disk, disk.config, console.log}."""
    folder: str

    @property
    def disk(self) -> str:
        return os.path.join(self.folder, "disk")

    @property
    def config_drive(self) -> str:
        return os.path.join(self.folder, "disk.config")

    @property
    def console_log(self) -> str:
        return os.path.join(self.folder, "console.log")


def instance_files(instances_dir: str, uuid: str) -> InstanceFiles:
    if not _SAFE_ID.match(uuid):
        raise DiskError(f"instance id {uuid!r} cannot name a folder")
    return InstanceFiles(os.path.join(instances_dir, uuid))


def _qemu_img(*args, action: str) -> str:
    try:
        result = subprocess.run(["qemu-img", *args], capture_output=True, text=True)
    except FileNotFoundError:
        raise DiskError(f"cannot {action}: qemu-img is not installed "
                        "(Debian package qemu-utils)") from None
    if result.returncode != 0:
        raise DiskError(f"cannot {action}: qemu-img {args[0]} exited {result.returncode}: "
                        f"{result.stderr.strip()[-500:]}")
    return result.stdout


def info(path: str, force_share: bool = False) -> DiskInfo:
    """What qemu-img sees in a disk file (its format is probed, never trusted from a name)."""
    if not os.path.exists(path):
        raise DiskError(f"cannot read disk {path}: it does not exist")
    extra = ["-U"] if force_share else []
    details = json.loads(_qemu_img("info", "--output=json", *extra, path,
                                   action=f"read disk {path}"))
    return DiskInfo(path=path, format=details["format"], virtual_size=details["virtual-size"],
                    backing_file=details.get("full-backing-filename")
                    or details.get("backing-filename"))


class ImageCache:
    """Images downloaded once per image id into `folder`, checked, then shared read-only."""

    def __init__(self, folder: str):
        self.folder = folder

    @classmethod
    def for_config(cls, config) -> "ImageCache":
        return cls(config.path("compute", "_base"))

    def path(self, image_id: str) -> str:
        if not _SAFE_ID.match(image_id):
            raise ImageError(f"image id {image_id!r} cannot name a cache file")
        return os.path.join(self.folder, image_id)

    @contextlib.contextmanager
    def _locked(self, image_id):
        # One download per image across threads and processes; each open is its own lock.
        locks = os.path.join(self.folder, ".locks")
        os.makedirs(locks, exist_ok=True)
        with open(os.path.join(locks, image_id), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def fetch(self, image_id: str, stream: Callable[[], Iterable[bytes]],
              checksums: Mapping[str, str] | None = None) -> DiskInfo:
        """The cached base for `image_id`, downloading it with `stream()` if absent.

        `checksums` maps hashlib names to hex digests (Glance's md5 `checksum`, and its
        os_hash_algo/os_hash_value); every one given must match or nothing is cached.
        """
        target = self.path(image_id)
        os.makedirs(self.folder, mode=0o755, exist_ok=True)
        with self._locked(image_id):
            if os.path.exists(target):
                return info(target)
            digests = {}
            for algorithm in (checksums or {}):
                try:
                    digests[algorithm] = hashlib.new(algorithm)
                except ValueError:
                    raise ImageError(f"image {image_id}: unknown checksum algorithm "
                                     f"{algorithm!r}") from None
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{image_id}-")
            try:
                with os.fdopen(handle, "wb") as output:
                    try:
                        for chunk in stream():
                            output.write(chunk)
                            for digest in digests.values():
                                digest.update(chunk)
                    except ImageError:
                        raise
                    except Exception as exc:
                        raise ImageError(f"image {image_id}: download failed: {exc}") from exc
                    output.flush()
                    os.fsync(output.fileno())
                for algorithm, digest in digests.items():
                    expected = checksums[algorithm].lower()
                    if digest.hexdigest() != expected:
                        raise ImageError(f"image {image_id}: {algorithm} checksum is "
                                         f"{digest.hexdigest()}, expected {expected}")
                found = info(temporary)
                _check_bootable(image_id, found)
                os.chmod(temporary, 0o644)
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
        LOG.info("cached image %s (%s, %d bytes virtual)", image_id, found.format,
                 found.virtual_size)
        return info(target)

    def cached(self) -> list[str]:
        """The image ids in the cache."""
        if not os.path.isdir(self.folder):
            return []
        return sorted(name for name in os.listdir(self.folder) if not name.startswith("."))

    def remove(self, image_id: str) -> None:
        """Drop a cached image (the caller knows no overlay still uses it)."""
        with self._locked(image_id):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(image_id))


def _check_bootable(image_id, found: DiskInfo):
    if found.format not in BOOTABLE_FORMATS:
        raise ImageError(f"image {image_id} is {found.format}; only "
                         f"{' or '.join(BOOTABLE_FORMATS)} images can boot")
    # A backing file inside an uploaded image would let a guest read any host file.
    if found.backing_file:
        raise ImageError(f"image {image_id} refers to a backing file "
                         f"({found.backing_file}); upload a standalone image")
    if found.format == "qcow2":
        details = json.loads(_qemu_img("info", "--output=json", found.path,
                                       action=f"read image {image_id}"))
        data = details.get("format-specific", {}).get("data", {})
        if data.get("data-file"):
            raise ImageError(f"image {image_id} uses an external data file; "
                             "upload a standalone image")


def create_overlay(base: str, overlay: str, size_gb: int | None = None) -> DiskInfo:
    """A qcow2 overlay on `base`, as large as the image or `size_gb` (never smaller)."""
    base_info = info(base)
    size = []
    if size_gb:
        if size_gb * GIB < base_info.virtual_size:
            raise DiskError(f"cannot create disk {overlay}: {size_gb} GB is smaller than "
                            f"the image's {_gb(base_info.virtual_size)} GB")
        size = [f"{size_gb}G"]
    os.makedirs(os.path.dirname(os.path.abspath(overlay)), exist_ok=True)
    if os.path.exists(overlay):
        raise DiskError(f"cannot create disk {overlay}: it already exists")
    _qemu_img("create", "-q", "-f", "qcow2", "-F", base_info.format, "-b",
              os.path.abspath(base), overlay, *size, action=f"create disk {overlay}")
    return info(overlay)


def resize(path: str, size_gb: int) -> DiskInfo:
    """Grow a disk to `size_gb`; shrinking would lose the guest's data and is refused."""
    current = info(path)
    if size_gb * GIB < current.virtual_size:
        raise DiskError(f"cannot resize disk {path} to {size_gb} GB: it is already "
                        f"{_gb(current.virtual_size)} GB and disks only grow")
    if size_gb * GIB > current.virtual_size:
        _qemu_img("resize", "-q", "-f", current.format, path, f"{size_gb}G",
                  action=f"resize disk {path}")
    return info(path)


def delete(path: str) -> None:
    """Remove a disk file or an instance folder; one that is already gone is fine."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=False)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def export_snapshot(disk: str, destination: str, force_share: bool = False) -> DiskInfo:
    """A standalone qcow2 of `disk` (its base merged in), for createImage.

    Stop or pause the guest first; force_share reads a disk a running qemu holds locked.
    """
    folder = os.path.dirname(os.path.abspath(destination))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".snapshot-")
    os.close(handle)
    try:
        extra = ["-U"] if force_share else []
        _qemu_img("convert", "-q", *extra, "-O", "qcow2", disk, temporary,
                  action=f"export a snapshot of {disk}")
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return info(destination)


def _gb(size: int) -> str:
    return f"{size / GIB:.2f}".rstrip("0").rstrip(".")
