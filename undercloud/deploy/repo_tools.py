"""What both halves of the package repository share: its error, running a tool, file hashes
and sizes."""
import hashlib
import os
import subprocess


class RepoError(Exception):
    """The repository cannot be built; the message names the package, file or tool."""


# A tool that hangs (a stalled mirror) must not hold a deploy forever.
TOOL_TIMEOUT = 1800
ERROR_LINES = 15   # the tail of a failed tool's output worth showing


def run(command: list[str], what: str, **options) -> str:
    """Run a tool, returning its standard output; a failure is a RepoError saying `what`
    failed, with the tool's last lines."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT,
                              **options)
    except FileNotFoundError:
        raise RepoError(f"{what}: {command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise RepoError(f"{what}: {command[0]} did not finish in {TOOL_TIMEOUT} s") from None
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        tail = "\n".join(lines[-ERROR_LINES:])
        raise RepoError(f"{what}: {os.path.basename(command[0])} exited with "
                        f"{done.returncode}:\n{tail}")
    return done.stdout


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def files_ending(folder: str, suffix: str) -> list[str]:
    """The names of the folder's files ending in `suffix`, sorted; none if it is missing."""
    try:
        return sorted(name for name in os.listdir(folder)
                      if name.endswith(suffix) and not name.startswith("."))
    except FileNotFoundError:
        return []


def total_size(folder: str, names: list[str]) -> int:
    return sum(os.path.getsize(os.path.join(folder, name)) for name in names)
