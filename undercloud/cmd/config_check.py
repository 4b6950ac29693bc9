"""`stackbox config check FILE`: read a configuration file as the services would, so a
template is checked before it replaces the live one (Ansible's `validate`)."""
import sys

from undercloud.common import config as configuration


def add_parser(commands):
    config = commands.add_parser("config", help="configuration files")
    config_commands = config.add_subparsers(dest="config_command", required=True,
                                            metavar="COMMAND")
    check = config_commands.add_parser("check", help="check a configuration file")
    check.add_argument("file")


def check(path: str) -> int:
    try:
        configuration.load(path, environ={})
    except configuration.ConfigError as exc:
        print(f"stackbox config check: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: valid")
    return 0
