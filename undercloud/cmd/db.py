"""`stackbox db sync`: migrate the schema and bootstrap the services' defaults, as an
overcloud's first control host does once per deploy (Keystone's db_sync + bootstrap)."""
import os
import sys

from undercloud.common import secrets
from undercloud.serve import prepare


def add_parser(commands, add_config_flags):
    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", required=True,
                                                metavar="COMMAND")
    sync = database_commands.add_parser("sync", help="migrate the schema and bootstrap the "
                                                     "defaults (prints what it changed)")
    add_config_flags(sync)


def sync(config) -> int:
    # The deployer hands out the secrets; made here they would differ between hosts.
    if not os.path.exists(secrets.admin_password_file(config)):
        print(f"stackbox db sync: {secrets.admin_password_file(config)} is missing; the "
              "deployer copies the secrets before the first sync", file=sys.stderr)
        return 1
    for line in prepare.database(config):
        print(line)
    print("database up to date")
    return 0
