"""`stackbox overcloud plan`: what a deploy of a plan file would do, without touching any
host (undercloud.deploy)."""
import os
import sys

BAD_PLAN = 2   # as a usage error: nothing was touched


def add_parser(commands, add_config_flags):
    overcloud = commands.add_parser("overcloud", help="the overcloud: plan a deploy")
    overcloud_commands = overcloud.add_subparsers(dest="overcloud_command", required=True,
                                                  metavar="COMMAND")
    plan = overcloud_commands.add_parser(
        "plan", help="check a plan file and show hosts per role, services per host and "
                     "the changes since the last deploy")
    plan.add_argument("plan_file", help="the plan, e.g. overcloud.yaml")
    plan.add_argument("--state-dir", help="where the last deploy's plan is kept, in "
                                          "overcloud/last-plan.json (default DATA_DIR)")
    add_config_flags(plan)


def run(config, args) -> int:
    from undercloud.deploy import plan as plans, show
    state_dir = args.state_dir or config["data_dir"]
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
