"""Image data arriving from a client: read in chunks, counted, capped and hashed on the way.

Nothing is held in memory beyond two chunks. The md5 (Glance's `checksum`) and sha512
(`os_hash_value`) digests run on worker threads while the store writes the same chunk
(hashlib releases the GIL), so hashing costs little wall time.
"""
import base64
import binascii
import concurrent.futures
import hashlib
import os
import threading

from werkzeug.exceptions import HTTPException

from undercloud.common import errors

HASH_ALGO = "sha512"
_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _hash_pool() -> concurrent.futures.ThreadPoolExecutor:
    # Made lazily per process: threads started before gunicorn forks would not exist after.
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = concurrent.futures.ThreadPoolExecutor(max_workers=8,
                                                          thread_name_prefix="image-hash")
            _pool_pid = os.getpid()
        return _pool


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
        self._md5 = hashlib.md5(usedforsecurity=False) if hashing else None
        self._sha = hashlib.new(HASH_ALGO) if hashing else None

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
        pending = []
        try:
            chunk = self._read()
            while chunk:
                self.size += len(chunk)
                if self.limit is not None and self.size > self.limit[0]:
                    raise TooLarge(self.limit[1])
                for future in pending:
                    future.result()
                pending = self._hash(chunk)
                yield chunk
                chunk = self._read()
        finally:
            # Never leave a hash update running on a buffer after we return.
            for future in pending:
                future.result()

    def _hash(self, chunk: bytes) -> list:
        if self._md5 is None:
            return []
        pool = _hash_pool()
        return [pool.submit(self._md5.update, chunk), pool.submit(self._sha.update, chunk)]

    @property
    def checksum(self) -> str | None:
        return self._md5.hexdigest() if self._md5 else None

    @property
    def hash_value(self) -> str | None:
        return self._sha.hexdigest() if self._sha else None

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
