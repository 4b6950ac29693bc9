"""DATA_DIR/run: the lock that keeps one `serve` per data dir, and what `status` reads."""
import fcntl
import json
import os
import time

from undercloud.common.files import write_atomic


class AlreadyRunning(Exception):
    pass


def run_dir(config) -> str:
    path = config.path("run")
    os.makedirs(path, mode=0o750, exist_ok=True)
    return path


def lock(config):
    """Hold an exclusive lock on run/serve.lock for this process's life."""
    path = os.path.join(run_dir(config), "serve.lock")
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunning(f"another stackbox serve (pid {owner}) is using "
                             f"{config['data_dir']}") from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def state_file(config) -> str:
    return os.path.join(run_dir(config), "serve.json")


def write_state(config, supervisor, started_at: float):
    state = {"pid": os.getpid(), "started_at": started_at, "updated_at": time.time(),
             "data_dir": config["data_dir"], "services": config["services"],
             "children": {c.name: {"pid": c.pid, "restarts": c.restarts}
                          for c in supervisor.children}}
    write_atomic(state_file(config), json.dumps(state, indent=1))


def read_state(config) -> dict | None:
    try:
        with open(state_file(config)) as stream:
            state = json.load(stream)
    except (OSError, ValueError):
        return None
    try:
        os.kill(state["pid"], 0)
    except (OSError, KeyError):
        return None
    return state


def effective_config_file(config) -> str:
    """The effective config the children read; 0600 because a DB URL may hold a password."""
    path = os.path.join(run_dir(config), "config.json")
    from undercloud.common.files import write_secret
    write_secret(path, config.to_json())
    return path
