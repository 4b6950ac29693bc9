"""One ansible-playbook run with the stackbox_events callback: its own output goes to a log
file, its events come back through a pipe, one JSON object at a time, to `on_event`.

    ANSIBLE_CONFIG=PLAYBOOKS/ansible.cfg VENV/bin/ansible-playbook -i INVENTORY PLAYBOOK
"""
import json
import os
import select
import subprocess
import sys
import time

from undercloud.common import process

CALLBACK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ansible", "callback")
CALLBACK = "stackbox_events"
READ_WAIT_SECONDS = 0.5
# ansible-playbook's own workers may keep the pipe open a moment after it exits.
DRAIN_SECONDS = 5.0
STOP_GRACE_SECONDS = 10.0


def ansible_playbook() -> str:
    """The ansible-playbook of the venv stackbox runs from."""
    return os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def environment(events_fd: int, ansible_config: str | None) -> dict:
    env = dict(os.environ)
    enabled = [name for name in env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",")
               if name.strip()]
    plugin_dirs = [path for path in env.get("ANSIBLE_CALLBACK_PLUGINS", "").split(os.pathsep)
                   if path]
    env.update({
        "ANSIBLE_CALLBACK_PLUGINS": os.pathsep.join([CALLBACK_DIR] + plugin_dirs),
        "ANSIBLE_CALLBACKS_ENABLED": ",".join([CALLBACK] + enabled),
        "STACKBOX_EVENTS_FD": str(events_fd),
        # The log is read by people: no colour codes in it.
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("STACKBOX_EVENTS_FILE", None)
    if ansible_config:
        env["ANSIBLE_CONFIG"] = ansible_config
    return env


class _Lines:
    """Splits what arrives on the pipe into JSON events; a torn line waits for its end."""

    def __init__(self, on_event, record):
        self.pending = b""
        self.on_event = on_event
        self.record = record

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            self.record.write(line + b"\n")
            try:
                event = json.loads(line)
            except ValueError:
                continue   # not ours: nothing else writes to this pipe, but never crash on it
            self.on_event(event)


def run(inventory: str, playbook: str, log_path: str, events_path: str, on_event,
        ansible_config: str | None = None, extra_args=()) -> int:
    """Run the playbook; call on_event(dict) for each event as it happens; keep the events in
    events_path and ansible-playbook's output in log_path; return its exit status."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    read_end, write_end = os.pipe()
    command = [ansible_playbook(), "-i", inventory, playbook, *extra_args]
    with open(log_path, "wb") as log, open(events_path, "wb") as record:
        try:
            child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, pass_fds=(write_end,),
                                     env=environment(write_end, ansible_config))
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        os.close(write_end)
        lines = _Lines(on_event, record)
        try:
            _pump(read_end, child, lines)
        except BaseException:
            # Interrupted (Ctrl-C) or the renderer failed: never leave ansible running alone.
            process.terminate(child.pid, STOP_GRACE_SECONDS)
            child.wait()
            raise
        finally:
            os.close(read_end)
    return child.returncode


def _pump(read_end: int, child: subprocess.Popen, lines: _Lines) -> None:
    drain_deadline = None
    while True:
        ready, _, _ = select.select([read_end], [], [], READ_WAIT_SECONDS)
        if ready:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break   # every writer closed the pipe
            lines.feed(chunk)
            continue
        if child.poll() is not None:
            drain_deadline = drain_deadline or time.monotonic() + DRAIN_SECONDS
            if time.monotonic() > drain_deadline:
                break
    child.wait()

