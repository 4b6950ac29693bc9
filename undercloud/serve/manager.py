"""A manager process: `python -m undercloud.serve.manager --service NAME --manager PROCESS`."""
import argparse
import importlib
import signal

from undercloud.common import config as configuration
from undercloud.common import logging as logs
from undercloud.services import SERVICES


def load_manager(service_name: str, process: str):
    path = dict(SERVICES[service_name].managers)[process]
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="stackbox-manager")
    parser.add_argument("--config-json", required=True)
    parser.add_argument("--service", required=True, choices=sorted(SERVICES))
    parser.add_argument("--manager", required=True, help="the process name in the registry")
    args = parser.parse_args(argv)
    with open(args.config_json) as stream:
        config = configuration.from_json(stream.read())
    logs.setup_process(config, args.service)
    manager = load_manager(args.service, args.manager)(config)
    signal.signal(signal.SIGTERM, lambda signum, frame: manager.stop())
    signal.signal(signal.SIGINT, lambda signum, frame: manager.stop())
    manager.run()


if __name__ == "__main__":
    main()
