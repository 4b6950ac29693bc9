"""stackbox_events: an Ansible callback that writes what the run does as JSON lines, for
`stackbox overcloud deploy` to show progress and keep per-task timing.

Enabled only by the deployer's environment (ANSIBLE_CALLBACK_PLUGINS naming this folder and
ANSIBLE_CALLBACKS_ENABLED=stackbox_events); it writes to the file descriptor in
STACKBOX_EVENTS_FD, or appends to the file in STACKBOX_EVENTS_FILE, and does nothing when
neither is set. One JSON object per line, each with "event" and "time":

    play_start   play, hosts, tasks (the play's static task count)
    task_start   play, role, task, handler
    host_start   play, role, task, host
    host_result  play, role, task, host, status (ok changed failed skipped unreachable),
                 seconds, ignored, message (failed and unreachable only)
    stats        recap: {host: {ok, changed, failed, unreachable, skipped, rescued, ignored}}

Results reach callbacks already censored for no_log tasks, and the message of such a task
says only that it is hidden.
"""
import json
import os
import time

from ansible import constants as C
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.playbook.block import Block
from ansible.plugins.callback import CallbackBase

FD_VARIABLE = "STACKBOX_EVENTS_FD"
FILE_VARIABLE = "STACKBOX_EVENTS_FILE"
MESSAGE_LINES = 5        # of a failed command's stderr or stdout
MESSAGE_CHARS = 2000
META_ACTIONS = ("meta", "ansible.builtin.meta")


def _static_task_count(blocks) -> int:
    """Tasks a play will run per host, includes not expanded; meta tasks are not shown."""
    count = 0
    for block in blocks:
        for entry in block.block + block.always:
            if isinstance(entry, Block):
                count += _static_task_count([entry])
            elif entry.action not in META_ACTIONS:
                count += 1
    return count


def _gathers_facts(play) -> int:
    """1 when the play starts with the implicit "Gathering Facts" task (as PlayIterator)."""
    gathering = C.DEFAULT_GATHERING
    implied = play.gather_facts is None or boolean(play.gather_facts, strict=False)
    if gathering == "explicit":
        return int(boolean(play.gather_facts, strict=False))
    return int(implied)


def _tail(text, lines: int = MESSAGE_LINES) -> str:
    return "\n".join(str(text).rstrip().splitlines()[-lines:])


def _message(outcome: dict) -> str:
    """What went wrong, from a module's result: msg, and a command's last output lines."""
    if "censored" in outcome:
        return "the output is hidden (no_log: true)"
    for item in outcome.get("results") or ():
        if isinstance(item, dict) and (item.get("failed") or item.get("unreachable")):
            label = item.get("_ansible_item_label", item.get("item"))
            return f"item {label}: {_message(item)}" if label is not None else _message(item)
    parts = [str(outcome["msg"])] if outcome.get("msg") else []
    if outcome.get("stderr"):
        parts.append(_tail(outcome["stderr"]))
    elif outcome.get("rc") and outcome.get("stdout"):
        parts.append(_tail(outcome["stdout"]))
    if not parts and "rc" in outcome:
        parts.append(f"exit status {outcome['rc']}")
    return "\n".join(parts)[:MESSAGE_CHARS] or "failed (the module gave no message)"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "stackbox_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stream = None
        if os.environ.get(FD_VARIABLE):
            self._stream = os.fdopen(int(os.environ[FD_VARIABLE]), "w", buffering=1)
        elif os.environ.get(FILE_VARIABLE):
            self._stream = open(os.environ[FILE_VARIABLE], "a", buffering=1)
        self._play = ""
        self._started: dict[tuple[str, str], float] = {}

    def _emit(self, event: str, **fields) -> None:
        if self._stream is None:
            return
        self._stream.write(json.dumps({"event": event, "time": time.time(), **fields}) + "\n")

    def _task_fields(self, task) -> dict:
        role = task._role.get_name(include_role_fqcn=False) if task._role else ""
        return {"play": self._play, "role": role, "task": task.name or task.action}

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()
        inventory = play.get_variable_manager()._inventory
        hosts = [host.name for host in inventory.get_hosts(play.hosts, order=play.order)]
        try:
            tasks = _static_task_count(play.compile()) + _gathers_facts(play)
        except Exception:   # a count is a progress hint; never fail the run for it
            tasks = 0
        self._emit("play_start", play=self._play, hosts=hosts, tasks=tasks)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task_start", handler=False, **self._task_fields(task))

    def v2_playbook_on_handler_task_start(self, task):
        self._emit("task_start", handler=True, **self._task_fields(task))

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.monotonic()
        self._emit("host_start", host=host.get_name(), **self._task_fields(task))

    def _result(self, result, status: str, ignored: bool = False) -> None:
        host = result._host.get_name()
        started = self._started.pop((host, result._task._uuid), None)
        fields = {"host": host, "status": status, "ignored": ignored,
                  "seconds": round(time.monotonic() - started, 3) if started else 0.0}
        if status in ("failed", "unreachable"):
            fields["message"] = _message(result._result)
        self._emit("host_result", **self._task_fields(result._task), **fields)

    def v2_runner_on_ok(self, result):
        self._result(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed", ignored=bool(ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        recap = {}
        for host in sorted(stats.processed):
            summary = stats.summarize(host)
            recap[host] = {"ok": summary["ok"], "changed": summary["changed"],
                           "failed": summary["failures"],
                           "unreachable": summary["unreachable"],
                           "skipped": summary["skipped"], "rescued": summary["rescued"],
                           "ignored": summary["ignored"]}
        self._emit("stats", recap=recap)
