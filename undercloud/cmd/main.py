"""The `stackbox` command."""
import argparse
import sys

from undercloud import __version__
from undercloud.cmd import config_check
from undercloud.cmd import db as db_command
from undercloud.cmd import lab as lab_command
from undercloud.cmd import node as node_command
from undercloud.cmd import overcloud as overcloud_command
from undercloud.cmd import repo as repo_command
from undercloud.cmd import run as run_command
from undercloud.common import config as configuration

CONFIG_ERROR = 2


def _add_config_flags(parser):
    parser.add_argument("--data-dir", help="where the DB, secrets and logs live")
    parser.add_argument("--config", help="the YAML configuration file")


def _parser():
    parser = argparse.ArgumentParser(prog="stackbox",
                                     description="Stackbox: an all-in-one OpenStack-compatible "
                                                 "cloud appliance.")
    parser.add_argument("--version", action="version", version=f"stackbox {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the undercloud in the foreground")
    _add_config_flags(serve)
    serve.add_argument("--services", help="comma-separated services to enable")
    serve.add_argument("--bind", help="the address the APIs listen on (default 127.0.0.1)")

    status = commands.add_parser("status", help="show each service's health")
    _add_config_flags(status)

    identity = commands.add_parser("identity", help="identity maintenance")
    identity_commands = identity.add_subparsers(dest="identity_command", required=True,
                                                metavar="COMMAND")
    rotate = identity_commands.add_parser("rotate-keys",
                                          help="rotate the token keys (Keystone's fernet_rotate)")
    _add_config_flags(rotate)
    rotate.add_argument("--max-active-keys", type=int, default=3,
                        help="keys kept: the primary, the staged and the newest secondaries "
                             "(default 3)")
    lab_command.add_parser(commands, _add_config_flags)
    node_command.add_parser(commands, _add_config_flags)
    overcloud_command.add_parser(commands, _add_config_flags)
    repo_command.add_parser(commands, _add_config_flags)
    run_command.add_parser(commands, _add_config_flags)
    db_command.add_parser(commands, _add_config_flags)
    config_check.add_parser(commands)
    return parser


def load_config(args):
    overrides = {"data_dir": args.data_dir, "bind": getattr(args, "bind", None)}
    services = getattr(args, "services", None)
    if services is not None:
        overrides["services"] = [s.strip() for s in services.split(",") if s.strip()]
    return configuration.load(args.config, overrides=overrides)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "config":
        return config_check.check(args.file)
    try:
        config = load_config(args)
    except configuration.ConfigError as exc:
        print(f"stackbox: configuration error: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    if args.command == "serve":
        from undercloud.cmd.serve import serve
        return serve(config)
    if args.command == "identity":
        from undercloud.cmd.identity import rotate_keys
        return rotate_keys(config, args.max_active_keys)
    if args.command == "lab":
        return lab_command.run(config, args)
    if args.command == "node":
        return node_command.run(config, args)
    if args.command == "overcloud":
        return overcloud_command.run(config, args)
    if args.command == "repo":
        return repo_command.run(config, args)
    if args.command == "run":
        return run_command.run(config, args)
    if args.command == "db":
        return db_command.sync(config)
    from undercloud.cmd.status import status
    return status(config)


if __name__ == "__main__":
    sys.exit(main())
