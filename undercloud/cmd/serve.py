"""`stackbox serve`: run the all-in-one undercloud in the foreground."""
import logging
import os
import shutil
import signal
import sys
import time

from undercloud import services as registry
from undercloud.common import logging as logs
from undercloud.common import secrets
from undercloud.serve import clouds, health, manager, prepare, runfile, sockets
from undercloud.serve.supervisor import Child, Supervisor

LOG = logging.getLogger("undercloud.serve")


class _Stop(Exception):
    pass


def _children(config, config_file, listening) -> list[Child]:
    python = sys.executable
    common = ["--config-json", config_file]
    fds = tuple(sock.fileno() for sock in listening.values())
    children = [Child("bus", [python, "-m", "undercloud.bus.broker", *common], stop_last=True),
                Child("api", [python, "-m", "undercloud.serve.api", *common,
                              *[f"--fd={fd}" for fd in fds]], pass_fds=fds)]
    # Every manager of the enabled services as threads of one process: one interpreter.
    processes = manager.processes_of(registry.enabled(config["services"]))
    if processes:
        children.append(Child("managers", [python, "-m", "undercloud.serve.manager", *common,
                                           *[f"--manager={process}" for process in processes]]))
    return children


def _log_to_console():
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logs.RedactingFormatter("stackbox: %(message)s"))
    logging.getLogger().addHandler(console)


def _summary(config, elapsed: float, clouds_file: str) -> str:
    lines = [f"Stackbox undercloud is up in {elapsed:.1f} s (data in {config['data_dir']})"]
    for service in registry.enabled(config["services"]):
        path = service.version_path
        if "%" in path:  # per-project URLs: show the version root, e.g. /v3
            path = path[:path.index("%")].rsplit("/", 1)[0]
        lines.append(f"  {service.name:<14} {config.endpoint(service.name)}{path}")
    lines.append(f"  {'bus':<14} {config.bus_url}")
    lines.append(f"Use it: export OS_CLIENT_CONFIG_FILE={clouds_file} OS_CLOUD=stackbox; "
                 f"{_openstack_command()} token issue")
    lines.append(f"Logs: {config.path('logs')}/   Stop: Ctrl-C")
    return "\n".join(lines)


def _prepare(config) -> bool:
    """Migrations and every service's defaults, in a forked child: their code (the models,
    bcrypt) then never loads into the supervisor, which stays small for as long as it runs."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            prepare.database(config)
            status = 0
        except BaseException:
            LOG.exception("preparing the database failed")
        finally:
            logging.shutdown()
            os._exit(status)
    return os.waitpid(pid, 0)[1] == 0


def _openstack_command() -> str:
    """How this user runs the openstack CLI: by name when it is on PATH, else by the path
    of the one installed beside stackbox (scripts/install links it there)."""
    if shutil.which("openstack"):
        return "openstack"
    beside = os.path.join(os.path.dirname(sys.executable), "openstack")
    if os.access(beside, os.X_OK):
        return beside
    return "openstack  # pip install python-openstackclient"


def serve(config) -> int:
    started = time.monotonic()
    # o+x so qemu (user libvirt-qemu) can reach instance disks below it.
    os.makedirs(config["data_dir"], mode=0o751, exist_ok=True)
    try:
        lock = runfile.lock(config)
    except runfile.AlreadyRunning as exc:
        print(f"stackbox: {exc}", file=sys.stderr)
        return 1
    logs.setup_process(config, "serve")
    _log_to_console()
    made = secrets.ensure_secrets(config)
    if made:
        LOG.info("generated %s", ", ".join(made))
    try:
        listening = sockets.listen_all(config, registry.enabled(config["services"]))
    except sockets.PortInUse as exc:
        print(f"stackbox: {exc}", file=sys.stderr)
        return 1
    if not _prepare(config):
        print(f"stackbox: preparing the database failed; see {logs.log_file(config, 'serve')}",
              file=sys.stderr)
        return 1
    config_file = runfile.effective_config_file(config)
    supervisor = Supervisor(config.path("logs"), config["supervisor"]["restart_backoff_max"],
                            config["supervisor"]["stop_timeout"])
    for child in _children(config, config_file, listening):
        supervisor.add(child)
    supervisor.on_change = lambda: runfile.write_state(config, supervisor, time.time())

    stopping = []

    def request_stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        supervisor.start_all()

        def alive():
            supervisor.check()
            return not stopping

        results = health.wait_until_healthy(config, config["supervisor"]["health_timeout"], alive)
        if stopping:
            raise _Stop()
        failed = {name: detail for name, (ok, detail) in results.items() if not ok}
        if failed:
            for name, detail in failed.items():
                print(f"stackbox: {name} did not become healthy ({detail}); "
                      f"see {logs.log_file(config, name)}", file=sys.stderr)
            return 1
        clouds_file = clouds.write(config, secrets.admin_password(config))
        print(_summary(config, time.monotonic() - started, clouds_file), flush=True)
        LOG.info("undercloud healthy in %.2f s", time.monotonic() - started)
        while not stopping:
            supervisor.check()
            time.sleep(0.1)
        raise _Stop()
    except _Stop:
        return 0
    finally:
        LOG.info("stopping")
        left = supervisor.stop()
        for sock in listening.values():
            sock.close()
        if os.path.exists(runfile.state_file(config)):
            os.unlink(runfile.state_file(config))
        LOG.info("stopped%s", f" (had to kill {', '.join(left)})" if left else "")
        lock.close()
