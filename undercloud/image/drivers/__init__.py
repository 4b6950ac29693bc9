"""Image stores: where image data lives. A store only keeps bytes; the API owns the life cycle.

A store writes data durably and atomically: nothing appears at a location until every byte
is on stable storage and the incoming data has verified (size and digests), and a failed or
interrupted write leaves nothing behind. Add a Swift store by implementing Store and naming
it in load().
"""
import abc
from typing import BinaryIO, Protocol


class StoreError(Exception):
    """The store cannot do what was asked (full, not writable); the message says why."""


class DataNotFound(StoreError):
    """The location names data the store does not have."""


class Incoming(Protocol):
    """The data being written: an iterable of byte chunks that can check itself at the end."""

    def __iter__(self): ...

    def verify(self, stored_size: int) -> None:
        """Raise if what arrived is not what the client promised (size, digest)."""


class Store(abc.ABC):
    scheme: str = ""

    @abc.abstractmethod
    def add(self, image_id: str, incoming: Incoming) -> str:
        """Write `incoming` and return its location; call incoming.verify() before publishing."""

    @abc.abstractmethod
    def open(self, location: str) -> BinaryIO:
        """A readable, seekable binary stream of the data at `location` (raise DataNotFound)."""

    @abc.abstractmethod
    def delete(self, location: str) -> None:
        """Remove the data at `location`; data already gone is not an error."""

    def local_path(self, location: str) -> str | None:
        """A path on this host holding the data, for tools like qemu-img; None if remote."""
        return None

    def sweep(self) -> list[str]:
        """Remove what interrupted writes left behind; returns what was removed."""
        return []


def load(kind: str, **options) -> Store:
    """The store driver named `kind`, built with its options."""
    if kind == "file":
        from undercloud.image.drivers.filesystem import FilesystemStore
        return FilesystemStore(**options)
    raise StoreError(f"unknown image store {kind!r}; known stores: file")
