"""`stackbox lab up/down/status`: the bare-metal lab of VMs behind BMCs (undercloud.lab)."""
import sys


def add_parser(commands, add_config_flags):
    lab = commands.add_parser("lab", help="a bare-metal lab: VMs behind IPMI BMCs")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")
    up = lab_commands.add_parser("up", help="make N VMs, each behind its own BMC, and "
                                            "write nodes.yaml and instackenv.json")
    add_config_flags(up)
    up.add_argument("--nodes", type=int, default=2, help="how many nodes (default 2)")
    up.add_argument("--name", default="baremetal",
                    help="the lab's name: nodes and VMs are NAME-0, NAME-1 ... "
                         "(default baremetal)")
    up.add_argument("--bridge", help="the provisioning bridge (default: the config's "
                                     "baremetal.provisioning_bridge)")
    up.add_argument("--memory", type=int, default=1024, help="MiB per VM (default 1024)")
    up.add_argument("--cpus", type=int, default=1, help="CPUs per VM (default 1)")
    up.add_argument("--disk", type=int, default=4, help="GiB of disk per VM (default 4)")
    up.add_argument("--first-bmc-port", type=int, default=6230,
                    help="the first BMC's UDP port on 127.0.0.1; the next ones follow "
                         "(default 6230)")
    for name, text in (("down", "remove the lab's VMs, disks, BMCs and the bridge it made"),
                       ("status", "show each node's power and BMC")):
        command = lab_commands.add_parser(name, help=text)
        add_config_flags(command)
    for command in lab_commands.choices.values():
        command.add_argument("--lab-dir", help="the lab's folder (default DATA_DIR/lab)")


def run(config, args) -> int:
    from undercloud.lab import lab
    lab_dir = args.lab_dir or config.path("lab")
    try:
        if args.lab_command == "up":
            return _up(lab, config, args, lab_dir)
        if args.lab_command == "down":
            return _down(lab, lab_dir)
        return _status(lab, lab_dir)
    except lab.LabError as exc:
        print(f"stackbox lab: {exc}", file=sys.stderr)
        return 1


def _up(lab, config, args, lab_dir) -> int:
    bridge = args.bridge or config["baremetal"]["provisioning_bridge"]
    state = lab.up(lab_dir, args.nodes, args.name, bridge, memory_mb=args.memory,
                   cpus=args.cpus, disk_gb=args.disk, first_bmc_port=args.first_bmc_port)
    print(f"{'NODE':<20}{'MAC':<20}{'BMC':<18}VM")
    for node in state["nodes"]:
        bmc = node["bmc"]
        print(f"{node['name']:<20}{node['mac']:<20}{bmc['address']}:{bmc['port']:<8}"
              f"{node['cpus']} CPU, {node['memory_mb']} MiB, {node['disk_gb']} GiB")
    print(f"Lab up in {state['lab_dir']} on bridge {state['bridge']}"
          f"{' (made by the lab)' if state['bridge_made'] else ''}.")
    print(f"Nodes file: {state['lab_dir']}/nodes.yaml (also instackenv.json); "
          f"next: stackbox node import {state['lab_dir']}/nodes.yaml")
    return 0


def _down(lab, lab_dir) -> int:
    state = lab.down(lab_dir)
    if state is None:
        print(f"No lab in {lab_dir}.")
        return 0
    print(f"Removed the lab in {lab_dir}: {len(state['nodes'])} VMs with their disks and "
          f"BMCs{', and bridge ' + state['bridge'] if state['bridge_made'] else ''}; "
          "the logs stay in logs/.")
    return 0


def _status(lab, lab_dir) -> int:
    rows = lab.status(lab_dir)
    if rows is None:
        print(f"No lab in {lab_dir}.")
        return 3
    print(f"{'NODE':<20}{'MAC':<20}{'POWER':<9}{'BMC':<18}BMC STATE")
    healthy = True
    for row in rows:
        bmc_state = "answers" if row["bmc_answers"] else \
            "running, not answering" if row["bmc_running"] else "not running"
        healthy &= row["bmc_answers"] and row["power"] != "missing"
        print(f"{row['name']:<20}{row['mac']:<20}{row['power']:<9}{row['bmc']:<18}"
              f"{bmc_state}")
    return 0 if healthy else 1
