"""The token key repository, in Keystone's fernet layout.

Files are named by number: ``0`` is the staged key (the next primary), the
highest number is the primary (it encrypts new tokens), and the others are
secondary keys that still decrypt tokens issued before a rotation. Every key
decrypts, so a token outlives one rotation; it dies when its key is pruned.
"""
import contextlib
import fcntl
import logging
import os
import threading
import time

from cryptography.fernet import Fernet, MultiFernet

from undercloud.common.files import write_secret

LOG = logging.getLogger(__name__)

MAX_ACTIVE_KEYS = 3
STAGED = 0
# How often a process looks at the directory for a rotation done by another process.
CHECK_SECONDS = 1.0
# A directory changed this recently may change again within one mtime tick; look again.
SETTLE_SECONDS = 2.0


class NoKeys(Exception):
    """The repository has no usable key; the message names the directory."""


def key_files(directory: str) -> dict[int, str]:
    """Key number -> path, for the files named by a number (temp and lock files skipped)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return {}
    return {int(name): os.path.join(directory, name) for name in names if name.isdigit()}


def load(directory: str) -> list[bytes]:
    """The keys to try, primary first, then secondaries newest first, the staged key last."""
    keys = []
    for _, path in sorted(key_files(directory).items(),
                          key=lambda item: (item[0] == STAGED, -item[0])):
        try:
            with open(path, "rb") as stream:
                key = stream.read().strip()
        except FileNotFoundError:  # pruned by a rotation while we listed
            continue
        if key:
            keys.append(key)
        else:
            LOG.warning("ignoring the empty token key %s", path)
    if not keys:
        raise NoKeys(f"the token key repository {directory} holds no keys; "
                     "`stackbox serve` creates them on first start")
    return keys


@contextlib.contextmanager
def _locked(directory: str):
    # Two rotations at once would both promote the same staged key.
    with open(os.path.join(directory, ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def initialize(directory: str) -> bool:
    """Create a staged and a primary key if the repository is empty; True if it did."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with _locked(directory):
        if key_files(directory):
            return False
        write_secret(os.path.join(directory, str(STAGED)), Fernet.generate_key())
        write_secret(os.path.join(directory, "1"), Fernet.generate_key())
    return True


def rotate(directory: str, max_active_keys: int = MAX_ACTIVE_KEYS) -> int:
    """Promote the staged key to primary, stage a new key, prune the oldest; return the primary."""
    if max_active_keys < 2:
        raise ValueError(f"max_active_keys is {max_active_keys}; it must be at least 2 "
                         "(a primary and a staged key)")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with _locked(directory):
        files = key_files(directory)
        if STAGED not in files:
            # A repository without a staged key (hand-made): stage one, then promote it.
            write_secret(os.path.join(directory, str(STAGED)), Fernet.generate_key())
            files[STAGED] = os.path.join(directory, str(STAGED))
        primary = max(files) + 1
        staged_next = os.path.join(directory, ".staged")
        write_secret(staged_next, Fernet.generate_key())
        os.rename(files.pop(STAGED), os.path.join(directory, str(primary)))
        os.rename(staged_next, os.path.join(directory, str(STAGED)))
        # Keep the new primary, the new staged key and the newest secondaries.
        for number in sorted(files)[:max(0, len(files) - (max_active_keys - 2))]:
            os.unlink(files[number])
    LOG.info("rotated token keys in %s: primary is now key %d", directory, primary)
    return primary


class KeyRing:
    """A repository's keys as a MultiFernet, reloaded when the directory changes."""

    def __init__(self, directory: str):
        self.directory = directory
        self._lock = threading.Lock()
        self._fernet: MultiFernet | None = None
        self._keys: set[bytes] = set()
        self._signature = None
        self._next_check = 0.0
        # Bumped when a key disappears: tokens it sealed must not live on in caches.
        self.pruned = 0

    def fernet(self) -> MultiFernet:
        now = time.monotonic()
        if self._fernet is not None and now < self._next_check:
            return self._fernet
        with self._lock:
            if self._fernet is None or now >= self._next_check:
                self._reload_if_changed()
                self._next_check = time.monotonic() + CHECK_SECONDS
        return self._fernet

    def _reload_if_changed(self):
        try:
            stat = os.stat(self.directory)
        except FileNotFoundError:
            raise NoKeys(f"the token key repository {self.directory} does not exist; "
                         "`stackbox serve` creates it on first start") from None
        signature = (stat.st_mtime_ns, stat.st_ino)
        if self._fernet is not None and signature == self._signature:
            return
        keys = load(self.directory)
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        if self._keys - set(keys):
            self.pruned += 1
        self._keys = set(keys)
        settled = time.time() - stat.st_mtime > SETTLE_SECONDS
        # An unsettled directory is read again next time, whatever its mtime says.
        self._signature = signature if settled else None
        LOG.debug("loaded %d token keys from %s", len(keys), self.directory)
