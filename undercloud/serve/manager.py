"""The manager process: one or more managers, each on a thread of its own.

    python -m undercloud.serve.manager --config-json FILE --manager compute-host [--manager ...]

The all-in-one undercloud hosts every enabled service's managers in one process (one
interpreter, one copy of the code: the appliance stays small); an overcloud host runs one
manager per systemd unit (`stackbox run manager PROCESS`). A manager thread that dies takes
the process down, logged with its name, so the supervisor (or systemd) restarts it and every
manager in it reconciles from the DB.
"""
import argparse
import importlib
import logging
import signal
import sys
import threading

from undercloud.common import config as configuration
from undercloud.common import logging as logs
from undercloud.services import SERVICES

LOG = logging.getLogger("undercloud.serve.manager")
# A manager stops within the supervisor's stop timeout; this only bounds a stuck one.
JOIN_SECONDS = 10.0


def service_of(process: str) -> str:
    return next(s.name for s in SERVICES.values() if process in dict(s.managers))


def load_manager(process: str):
    path = dict(SERVICES[service_of(process)].managers)[process]
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def processes_of(services) -> list[str]:
    """The manager processes of the services named, in registry order."""
    return [process for service in services for process, _ in service.managers]


def _setup_logs(config, processes: list[str]):
    services = sorted({service_of(process) for process in processes})
    if len(services) == 1:
        logs.setup_process(config, services[0])
        return
    logs.setup_process(config, "managers")
    for service in services:  # each service's own lines still go to logs/<service>.log
        logs.to_file(config, service, f"undercloud.{service}", propagate=False)


def host(config, processes: list[str]) -> int:
    """Run the managers until a signal (0) or until one of them dies (1)."""
    _setup_logs(config, processes)
    managers = {process: load_manager(process)(config) for process in processes}
    ended = threading.Event()
    died = []

    def run(process, manager):
        try:
            manager.run()
            if not manager.stopping.is_set():
                raise RuntimeError("returned without being asked to stop")
        except BaseException:
            LOG.exception("manager thread %s died; stopping the process so it restarts",
                          process)
            died.append(process)
        finally:
            ended.set()

    def stop(signum=None, frame=None):
        ended.set()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    threads = [threading.Thread(target=run, args=item, name=item[0], daemon=True)
               for item in managers.items()]
    for thread in threads:
        thread.start()
    try:
        while not ended.wait(1.0):
            pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    for manager in managers.values():
        manager.stop()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        LOG.warning("managers still stopping after %.0f s: %s", JOIN_SECONDS, ", ".join(stuck))
    return 1 if died else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="stackbox-managers")
    parser.add_argument("--config-json", required=True)
    parser.add_argument("--manager", required=True, action="append",
                        choices=processes_of(SERVICES.values()),
                        help="a manager process named in the registry (repeatable)")
    args = parser.parse_args(argv)
    with open(args.config_json) as stream:
        config = configuration.from_json(stream.read())
    sys.exit(host(config, args.manager))


if __name__ == "__main__":
    main()
