"""The filesystem store: atomic writes, verification before publishing, and cleanup."""
import os

import pytest

from undercloud.image import drivers
from undercloud.image.drivers.filesystem import FilesystemStore
from undercloud.image.incoming import Incoming


class Chunks:
    """Incoming data for the store, with a verify that can refuse it."""

    def __init__(self, chunks, refuse=False):
        self.chunks, self.refuse, self.verified = chunks, refuse, None

    def __iter__(self):
        yield from self.chunks

    def verify(self, stored_size):
        self.verified = stored_size
        if self.refuse:
            raise ValueError("digest mismatch")


def test_add_writes_the_whole_file_and_verifies_it_first(tmp_path):
    store = FilesystemStore(str(tmp_path / "images"))
    incoming = Chunks([b"abc", b"defg"])
    location = store.add("image-1", incoming)
    assert location == f"file://{tmp_path}/images/image-1"
    assert incoming.verified == 7
    with store.open(location) as stream:
        assert stream.read() == b"abcdefg"
    assert store.local_path(location) == str(tmp_path / "images" / "image-1")


@pytest.mark.parametrize("incoming", [Chunks([b"abc"], refuse=True),
                                      Chunks(iter([b"abc", None]))])
def test_a_refused_or_failed_write_leaves_nothing(tmp_path, incoming):
    store = FilesystemStore(str(tmp_path))
    with pytest.raises((ValueError, TypeError)):
        store.add("image-1", incoming)
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_previous_data(tmp_path):
    store = FilesystemStore(str(tmp_path))
    location = store.add("image-1", Chunks([b"old"]))
    with pytest.raises(ValueError):
        store.add("image-1", Chunks([b"new"], refuse=True))
    assert store.open(location).read() == b"old"


def test_locations_outside_the_store_are_never_opened(tmp_path):
    store = FilesystemStore(str(tmp_path / "images"))
    with pytest.raises(drivers.DataNotFound):
        store.open("file:///etc/passwd")
    with pytest.raises(drivers.DataNotFound):
        store.open(f"file://{tmp_path}/images/../secret")
    with pytest.raises(drivers.DataNotFound):
        store.open(store.location("missing"))
    store.delete(store.location("missing"))  # already gone is fine


def test_sweep_removes_temporary_files_only(tmp_path):
    store = FilesystemStore(str(tmp_path))
    store.add("kept", Chunks([b"x"]))
    (tmp_path / ".tmp-half-written").write_bytes(b"half")
    assert store.sweep() == [".tmp-half-written"]
    assert os.listdir(tmp_path) == ["kept"]


def test_incoming_hashes_counts_and_caps(tmp_path):
    import hashlib
    import io
    data = os.urandom(300_000)
    incoming = Incoming(io.BytesIO(data), 65536)
    assert b"".join(incoming) == data
    assert incoming.size == len(data)
    assert incoming.checksum == hashlib.md5(data).hexdigest()
    assert incoming.hash_value == hashlib.sha512(data).hexdigest()
    capped = Incoming(io.BytesIO(data), 65536, limit=(100_000, "too big"))
    with pytest.raises(Exception, match="too big"):
        list(capped)


def test_unknown_store_kind_is_refused():
    with pytest.raises(drivers.StoreError):
        drivers.load("swift")
