"""The filesystem store: one file per image in a directory, written atomically.

Data goes to a temporary file in the same directory, is fsynced, verified, then renamed into
place (and the directory fsynced), so a reader sees either no file or the whole image.
Locations are file:// URLs, as Glance's filesystem store writes them.
"""
import errno
import logging
import os
import tempfile
import urllib.parse

from undercloud.image.drivers import DataNotFound, Store, StoreError

LOG = logging.getLogger(__name__)
TEMP_PREFIX = ".tmp-"


class FilesystemStore(Store):
    scheme = "file"

    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)

    def _path(self, location: str) -> str:
        parsed = urllib.parse.urlsplit(location)
        path = os.path.abspath(urllib.parse.unquote(parsed.path))
        # The location comes from our own database; still, never read outside the store.
        if parsed.scheme != self.scheme or os.path.dirname(path) != self.directory:
            raise DataNotFound(f"location {location!r} is not in the store {self.directory}")
        return path

    def location(self, image_id: str) -> str:
        return "file://" + urllib.parse.quote(os.path.join(self.directory, image_id))

    def add(self, image_id: str, incoming) -> str:
        os.makedirs(self.directory, mode=0o750, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f"{TEMP_PREFIX}{image_id}-")
        try:
            with open(handle, "wb", buffering=0) as stream:
                for chunk in incoming:
                    view = memoryview(chunk)
                    while view:
                        written = stream.write(view)
                        view = view[written:]
                os.fsync(stream.fileno())
                incoming.verify(os.fstat(stream.fileno()).st_size)
            final = os.path.join(self.directory, image_id)
            os.replace(temporary, final)
            self._sync_directory()
        except OSError as exc:
            _remove(temporary)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreError(f"Image storage media is full: {exc.strerror}") from exc
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise StoreError(f"Insufficient permissions on image storage media: "
                                 f"{exc.strerror}") from exc
            raise
        except BaseException:
            # Any failure, a client that went away included, leaves no partial file.
            _remove(temporary)
            raise
        return self.location(image_id)

    def _sync_directory(self):
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def open(self, location: str):
        try:
            return open(self._path(location), "rb")
        except FileNotFoundError:
            raise DataNotFound(f"image data at {location} is missing") from None

    def delete(self, location: str) -> None:
        try:
            _remove(self._path(location))
        except DataNotFound:
            LOG.warning("not deleting %s: it is outside the store %s", location, self.directory)

    def local_path(self, location: str) -> str | None:
        return self._path(location)

    def size(self, location: str) -> int:
        try:
            return os.stat(self._path(location)).st_size
        except FileNotFoundError:
            raise DataNotFound(f"image data at {location} is missing") from None

    def sweep(self) -> list[str]:
        if not os.path.isdir(self.directory):
            return []
        removed = []
        for name in os.listdir(self.directory):
            if name.startswith(TEMP_PREFIX):
                _remove(os.path.join(self.directory, name))
                removed.append(name)
        return removed


def _remove(path: str):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
