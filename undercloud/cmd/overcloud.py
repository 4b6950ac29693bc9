"""`stackbox overcloud plan|deploy|status`: show what a deploy of a plan file would do
without touching any host, deploy it, and show the last deploy with a live check of the
overcloud (undercloud.deploy)."""
import os
import sys

BAD_PLAN = 2   # as a usage error: nothing was touched
INTERRUPTED = 130


def add_parser(commands, add_config_flags):
    overcloud = commands.add_parser("overcloud", help="the overcloud: plan, deploy, status")
    overcloud_commands = overcloud.add_subparsers(dest="overcloud_command", required=True,
                                                  metavar="COMMAND")
    plan = overcloud_commands.add_parser(
        "plan", help="check a plan file and show hosts per role, services per host and "
                     "the changes since the last deploy")
    plan.add_argument("plan_file", help="the plan, e.g. overcloud.yaml")
    deploy = overcloud_commands.add_parser(
        "deploy", help="provision bare-metal nodes or take deployed servers, write the "
                       "inventory and run playbooks/overcloud.yml with live progress")
    deploy.add_argument("plan_file", help="the plan, e.g. overcloud.yaml")
    status = overcloud_commands.add_parser(
        "status", help="the last deploy (when, how long, result, recap) and a live check "
                       "of the overcloud's services; exit 0 healthy, 1 not, 3 never deployed")
    for command in (plan, deploy, status):
        command.add_argument("--state-dir", help="where the deploy keeps its state, in "
                                                 "overcloud/ (default DATA_DIR)")
        add_config_flags(command)


def _plan(args, state_dir: str) -> int:
    from undercloud.deploy import plan as plans, show
    try:
        plan = plans.read(args.plan_file)
        last = plans.load_last(state_dir)
    except plans.PlanError as exc:
        print(f"stackbox overcloud plan: {exc}", file=sys.stderr)
        return BAD_PLAN
    for line in show.table(plan):
        print(line)
    print()
    if last is None:
        print(f"No previous deploy (no {os.path.join(state_dir, plans.LAST_PLAN)}): "
              "every host above is new.")
        return 0
    print("Since the last deploy:")
    for line in show.diff(last, plan):
        print(f"  {line}")
    return 0


def run(config, args) -> int:
    state_dir = os.path.abspath(args.state_dir or config["data_dir"])
    if args.overcloud_command == "plan":
        return _plan(args, state_dir)
    if args.overcloud_command == "status":
        from undercloud.deploy.status import status
        return status(state_dir, sys.stdout)
    from undercloud.deploy.deploy import deploy
    try:
        return deploy(config, args.plan_file, state_dir, sys.stdout)
    except KeyboardInterrupt:
        print("stackbox overcloud deploy: interrupted", file=sys.stderr)
        return INTERRUPTED
