"""Image data arriving from a client: read in chunks, counted, capped and hashed on the way.

The md5 (Glance's `checksum`) and sha512 (`os_hash_value`) digests each run on a thread of
their own, fed through a short queue, while the store writes the same chunks (hashlib
releases the GIL): md5 is sequential and the slowest step, so it must never wait on the
reader or on sha512. Nothing is held in memory beyond a few chunks per digest.
"""
import base64
import binascii
import hashlib
import queue
import threading

from werkzeug.exceptions import HTTPException

from undercloud.common import errors

HASH_ALGO = "sha512"
# Chunks a digest may lag behind the reader: enough to ride out a slow write, few enough to
# keep an upload's memory small.
QUEUE_CHUNKS = 4


class Digest:
    """One hashlib digest fed on its own thread; close() waits for every chunk."""

    def __init__(self, name: str):
        self.hash = hashlib.new(name, usedforsecurity=False) if name == "md5" \
            else hashlib.new(name)
        self.name = name
        self._chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._thread: threading.Thread | None = None

    def _run(self):
        while (chunk := self._chunks.get()) is not None:
            self.hash.update(chunk)

    def update(self, chunk: bytes):
        if self._thread is None:  # started by the first chunk, so an unused digest costs none
            self._thread = threading.Thread(target=self._run, name=f"image-{self.name}",
                                            daemon=True)
            self._thread.start()
        self._chunks.put(chunk)  # blocks while the queue is full: memory stays bounded

    def close(self):
        if self._thread is not None and self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()

    def hexdigest(self) -> str:
        self.close()
        return self.hash.hexdigest()


class UploadInterrupted(errors.BadRequest):
    """The client stopped sending before the data was complete."""


class TooLarge(errors.PayloadTooLarge):
    """More data arrived than the quota or the size cap allows."""


class Incoming:
    """An iterable of chunks read from `stream`; after iteration, `size` and digests are final.

    `limit` is (maximum bytes, the message to answer 413 with when they are exceeded).
    """

    def __init__(self, stream, chunk_size: int, *, expected_size: int | None = None,
                 expected_md5: str | None = None, limit: tuple[int, str] | None = None,
                 hashing: bool = True):
        self.stream, self.chunk_size = stream, chunk_size
        self.expected_size, self.expected_md5 = expected_size, expected_md5
        self.limit = limit
        self.size = 0
        self._digests = (Digest("md5"), Digest(HASH_ALGO)) if hashing else ()

    def _read(self) -> bytes:
        try:
            return self.stream.read(self.chunk_size)
        except (errors.ApiError, HTTPException):
            raise
        except Exception as exc:
            # A dropped connection or a broken chunked encoding: the client is gone.
            raise UploadInterrupted(f"The image data stopped arriving after {self.size} bytes "
                                    f"({exc.__class__.__name__}: {exc}); nothing was kept.") \
                from exc

    def __iter__(self):
        try:
            chunk = self._read()
            while chunk:
                self.size += len(chunk)
                if self.limit is not None and self.size > self.limit[0]:
                    raise TooLarge(self.limit[1])
                for digest in self._digests:
                    digest.update(chunk)
                yield chunk
                chunk = self._read()
        finally:
            # Never leave a digest thread behind, whatever ended the upload.
            for digest in self._digests:
                digest.close()

    @property
    def checksum(self) -> str | None:
        return self._digests[0].hexdigest() if self._digests else None

    @property
    def hash_value(self) -> str | None:
        return self._digests[1].hexdigest() if self._digests else None

    def verify(self, stored_size: int) -> None:
        if stored_size != self.size:
            raise errors.ServiceUnavailable(
                f"The store kept {stored_size} bytes of the {self.size} received; "
                "the upload was discarded, try again.")
        if self.expected_size is not None and self.size != self.expected_size:
            raise errors.BadRequest(
                f"The image data has {self.size} bytes but the request declared "
                f"{self.expected_size} (x-openstack-image-size or Content-Length); the upload "
                "was discarded.")
        if self.expected_md5 and self.checksum and self.expected_md5 != self.checksum:
            raise errors.BadRequest(
                f"The image data's md5 is {self.checksum} but Content-MD5 said "
                f"{self.expected_md5}; the upload was discarded.")


def md5_header(value: str | None) -> str | None:
    """A Content-MD5 request header as hex: Glance writes hex, RFC 1864 writes base64."""
    if not value:
        return None
    value = value.strip()
    if len(value) == 32 and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise errors.BadRequest(f"Content-MD5 {value!r} is neither 32 hex digits nor base64 "
                                "of 16 bytes.")
    return raw.hex()
