"""Writing files atomically, and secrets with mode 0600."""
import os
import tempfile


def write_atomic(path: str, data: str | bytes, mode: int = 0o644):
    """Replace `path` in one step, so a reader never sees half a file."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode() if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_secret(path: str, data: str | bytes):
    write_atomic(path, data, mode=0o600)


def write_secret_once(path: str, make) -> bool:
    """Write make()'s value as a secret file unless it exists; True when it wrote it."""
    if os.path.exists(path):
        return False
    write_secret(path, make())
    return True


def read_text(path: str) -> str:
    with open(path) as stream:
        return stream.read().strip()


def read_if_exists(path: str) -> str | None:
    """The file's text, or None when there is no such file."""
    try:
        with open(path) as stream:
            return stream.read()
    except FileNotFoundError:
        return None
