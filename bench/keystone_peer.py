"""The real Keystone (from PyPI) on loopback, set up like Stackbox, for side-by-side benchmarks.

`keystone(work_dir, password, rounds, workers, threads)` installs Keystone into its own venv
(once), writes keystone.conf (SQLite, fernet tokens, bcrypt at the given cost), runs
db_sync, fernet_setup, credential_setup and bootstrap, then serves it with gunicorn on a free
loopback port until the `with` block ends.
"""
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEYSTONE_VERSION = "30.0.0"
KEYSTONE_VENV = Path(os.environ.get("STACKBOX_KEYSTONE_VENV", REPO / ".venv-keystone"))

sys.path.insert(0, str(REPO))
from tests.fixtures.ports import free_port  # noqa: E402


@dataclass
class Keystone:
    endpoint: str
    password: str
    work_dir: Path
    process: subprocess.Popen


def ensure_venv(venv: Path = KEYSTONE_VENV) -> Path:
    """A venv holding keystone==KEYSTONE_VERSION and gunicorn (kept apart from ours)."""
    wanted = f"keystone-{KEYSTONE_VERSION}.dist-info"
    site = list(venv.glob("lib/python3*/site-packages"))
    if site and (site[0] / wanted).exists() and (venv / "bin" / "gunicorn").exists():
        return venv
    print(f"installing keystone {KEYSTONE_VERSION} and gunicorn into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                    f"keystone=={KEYSTONE_VERSION}", "gunicorn"], check=True)
    return venv


def write_conf(work_dir: Path, rounds: int, cache: bool) -> Path:
    conf = f"""[DEFAULT]
log_file = {work_dir / 'keystone.log'}
use_stderr = false

[database]
connection = sqlite:///{work_dir / 'keystone.db'}

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = {work_dir / 'fernet-keys'}

[fernet_receipts]
key_repository = {work_dir / 'fernet-keys'}

[credential]
key_repository = {work_dir / 'credential-keys'}

[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = {rounds}

[cache]
enabled = {str(cache).lower()}
backend = {'dogpile.cache.memory' if cache else 'dogpile.cache.null'}
"""
    path = work_dir / "keystone.conf"
    path.write_text(conf)
    return path


def _manage(venv: Path, conf: Path, *args):
    subprocess.run([str(venv / "bin" / "keystone-manage"), "--config-file", str(conf), *args],
                   check=True, capture_output=True, text=True, timeout=300)


def _wait_until_up(endpoint: str, process: subprocess.Popen, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(endpoint + "/v3", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"keystone did not come up at {endpoint}:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def keystone(work_dir: Path, password: str, rounds: int, workers: int, threads: int,
             region: str = "RegionOne", cache: bool = False):
    venv = ensure_venv()
    work_dir.mkdir(parents=True, exist_ok=True)
    for keys in ("fernet-keys", "credential-keys"):
        (work_dir / keys).mkdir(mode=0o700, exist_ok=True)
    conf = write_conf(work_dir, rounds, cache)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    user, group = str(os.getuid()), str(os.getgid())
    _manage(venv, conf, "db_sync")
    _manage(venv, conf, "fernet_setup", "--keystone-user", user, "--keystone-group", group)
    _manage(venv, conf, "credential_setup", "--keystone-user", user, "--keystone-group", group)
    _manage(venv, conf, "bootstrap", "--bootstrap-password", password,
            "--bootstrap-region-id", region, "--bootstrap-public-url", endpoint + "/v3",
            "--bootstrap-admin-url", endpoint + "/v3", "--bootstrap-internal-url",
            endpoint + "/v3")
    # Keystone hands sys.argv to oslo.config, which rejects gunicorn's flags: load it clean.
    (work_dir / "keystone_app.py").write_text(
        "import sys\nsys.argv = sys.argv[:1]\nfrom keystone.wsgi.api import application\n")
    log = work_dir / "gunicorn.log"
    env = {**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(conf)}
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            [str(venv / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
             "--keep-alive", "30", "--timeout", "120", "--chdir", str(work_dir),
             "keystone_app:application"],
            stdout=stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=str(work_dir), start_new_session=True)
    try:
        _wait_until_up(endpoint, process, log)
        yield Keystone(endpoint, password, work_dir, process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
