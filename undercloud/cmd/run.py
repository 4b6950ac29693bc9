"""`stackbox run bus|api SERVICE|manager PROCESS`: one process in the foreground, as a systemd
unit runs it on an overcloud host (the undercloud's `serve` supervises the same processes)."""
import logging
import sys

from undercloud import services as registry
from undercloud.common import logging as logs

LOG = logging.getLogger("undercloud.run")


def add_parser(commands, add_config_flags):
    run = commands.add_parser("run", help="run one process in the foreground (a systemd "
                                          "unit's command on an overcloud host)")
    kinds = run.add_subparsers(dest="run_command", required=True, metavar="PROCESS")
    bus = kinds.add_parser("bus", help="the bus broker")
    api = kinds.add_parser("api", help="one service's API")
    api.add_argument("service", choices=[s.name for s in registry.SERVICES.values()
                                         if not s.planned])
    manager = kinds.add_parser("manager", help="one manager process")
    manager.add_argument("process", choices=sorted(
        process for service in registry.SERVICES.values() for process, _ in service.managers
        if not service.planned))
    for command in (bus, api, manager):
        add_config_flags(command)


def run(config, args) -> int:
    if args.run_command == "bus":
        return _bus(config)
    if args.run_command == "api":
        return _api(config, args.service)
    return _manager(config, args.process)


def _bus(config) -> int:
    from undercloud.bus.broker import Broker
    from undercloud.bus.errors import BusError
    logs.setup_process(config, "bus")
    try:
        Broker(config).run()
    except BusError as exc:
        LOG.error("%s", exc)
        print(f"stackbox: {exc}", file=sys.stderr)
        return 1
    return 0


def _api(config, service_name: str) -> int:
    from undercloud.serve.api import ApiServer
    from undercloud.serve.sockets import PortInUse, listen
    logs.setup_process(config, f"{service_name}-api")
    try:
        sock = listen(config["bind"], config.port(service_name), service_name)
    except PortInUse as exc:
        print(f"stackbox: {exc}", file=sys.stderr)
        return 1
    # This process serves one API; the others named in `services` stay in the catalog.
    ApiServer(config, [sock.fileno()], only=[service_name],
              process_name=f"stackbox-{service_name}-api").run()
    return 0


def _manager(config, process: str) -> int:
    from undercloud.serve.manager import host
    return host(config, [process])
