"""Live progress of a deploy from the stackbox_events callback's events (see
undercloud/deploy/ansible/callback/stackbox_events.py), per play (a role's hosts) and per task.

On a terminal: one status line, redrawn in place,

    [####......] 42%  control  stackbox : start units (oc-ctl-0)

Elsewhere (a log, a pipe): one plain line per finished task, no control characters,

    control  [ 42%]  stackbox : start units  changed=1 ok=1  (2.3 s)

Both print a line when a play starts and ends, and each failure at once: the task, the host
and the module's message (no_log tasks' output is already hidden by Ansible).
"""
import shutil

BAR_CELLS = 10
CLEAR_LINE = "\r\x1b[K"
STATUSES = ("changed", "ok", "failed", "unreachable", "skipped")


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def task_text(event: dict) -> str:
    name = f"{event['role']} : {event['task']}" if event.get("role") else event["task"]
    return f"{name} (handler)" if event.get("handler") else name


class _Play:
    def __init__(self, event: dict):
        self.name = event["play"]
        self.hosts = event.get("hosts") or []
        self.tasks = event.get("tasks") or 0
        self.started = event["time"]
        self.results = 0
        self.counts = dict.fromkeys(STATUSES, 0)

    def percent(self) -> int | None:
        expected = self.tasks * len(self.hosts)
        if not expected:
            return None
        # Dynamic includes add tasks the static count did not see: past it, say 99.
        return 99 if self.results > expected else self.results * 100 // expected


class Progress:
    def __init__(self, out, tty: bool | None = None, width: int | None = None):
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.width = width
        self.play: _Play | None = None
        self.task: dict | None = None        # the running task's task_start event
        self.task_results: list[dict] = []
        self.host = ""                        # the host last heard of in the running task
        self.status_shown = False
        self.failures: list[dict] = []

    # -- output ----------------------------------------------------------------------------
    def _line(self, text: str) -> None:
        """A permanent line; on a terminal the status line is redrawn under it."""
        if self.tty and self.status_shown:
            self.out.write(CLEAR_LINE)
            self.status_shown = False
        self.out.write(text + "\n")
        self.out.flush()

    def _status(self) -> None:
        if not self.tty or self.play is None:
            return
        percent = self.play.percent()
        if percent is None:
            bar = f"[{self.play.results} results]"
        else:
            filled = percent * BAR_CELLS // 100
            bar = f"[{'#' * filled}{'.' * (BAR_CELLS - filled)}] {percent:2d}%"
        text = f"{bar}  {self.play.name}"
        if self.task:
            text += f"  {task_text(self.task)}" + (f" ({self.host})" if self.host else "")
        width = self.width or shutil.get_terminal_size().columns
        # A line longer than the terminal wraps, and \r would then redraw only its tail.
        self.out.write(CLEAR_LINE + text[:max(width - 1, 10)])
        self.out.flush()
        self.status_shown = True

    # -- events ----------------------------------------------------------------------------
    def event(self, event: dict) -> None:
        handler = getattr(self, f"_on_{event.get('event')}", None)
        if handler:
            handler(event)
            self._status()

    def _on_play_start(self, event: dict) -> None:
        self._finish_play(event["time"])
        self.play = _Play(event)
        hosts = ", ".join(self.play.hosts) or "no hosts"
        self._line(f"{self.play.name}: {len(self.play.hosts)} host(s) ({hosts}), "
                   f"{self.play.tasks} task(s)")

    def _on_task_start(self, event: dict) -> None:
        self._finish_task()
        self.task = event
        self.task_results = []
        self.host = ""

    def _on_host_start(self, event: dict) -> None:
        self.host = event["host"]

    def _on_host_result(self, event: dict) -> None:
        self.host = event["host"]
        self.task_results.append(event)
        if self.play:
            self.play.results += 1
            status = "ignored" if event.get("ignored") else event["status"]
            self.play.counts[status] = self.play.counts.get(status, 0) + 1
        if event["status"] in ("failed", "unreachable") and not event.get("ignored"):
            self.failures.append(event)
            what = "UNREACHABLE" if event["status"] == "unreachable" else "FAILED"
            self._line(f"{what}  {event['play']}  {task_text(self.task or event)} on "
                       f"{event['host']}:")
            for line in (event.get("message") or "").splitlines() or [""]:
                self._line(f"    {line}")

    def _on_stats(self, event: dict) -> None:
        self._finish_play(event["time"])

    # -- finishing -------------------------------------------------------------------------
    def _finish_task(self) -> None:
        if self.task is None or not self.task_results:
            return
        if not self.tty and self.play is not None:
            counts = {}
            for result in self.task_results:
                status = "ignored" if result.get("ignored") else result["status"]
                counts[status] = counts.get(status, 0) + 1
            percent = self.play.percent()
            where = f"[{percent:3d}%]" if percent is not None else f"[{self.play.results}]"
            seconds = max(result["seconds"] for result in self.task_results)
            self._line(f"{self.play.name}  {where}  {task_text(self.task)}  "
                       + " ".join(f"{status}={count}" for status, count in counts.items())
                       + f"  ({duration_text(seconds)})")
        self.task = None
        self.task_results = []

    def _finish_play(self, now: float) -> None:
        self._finish_task()
        if self.play is None:
            return
        counts = self.play.counts
        self._line(f"{self.play.name}: done in {duration_text(now - self.play.started)}: "
                   f"{counts['changed']} changed, {counts['ok']} ok, "
                   f"{counts['failed'] + counts['unreachable']} failed, "
                   f"{counts['skipped']} skipped")
        self.play = None
        self.task = None

    def close(self) -> None:
        """Clear the status line (the run ended, or was interrupted)."""
        if self.tty and self.status_shown:
            self.out.write(CLEAR_LINE)
            self.out.flush()
            self.status_shown = False
