"""`stackbox lab up/down/status`: a lab of VMs behind BMCs for bare metal (undercloud.lab.lab)
or of nspawn hosts behind BMCs for deployed servers (undercloud.lab.hosts)."""
import os
import sys

KINDS = ("vm", "nspawn")


def add_parser(commands, add_config_flags):
    lab = commands.add_parser("lab", help="a lab: VMs (bare metal) or nspawn hosts (deployed "
                                          "servers), each behind an IPMI BMC")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")
    up = lab_commands.add_parser("up", help="make N VMs (and nodes.yaml, instackenv.json) or "
                                            "N nspawn hosts (and deployed-servers.yaml), each "
                                            "behind its own BMC")
    add_config_flags(up)
    up.add_argument("--kind", choices=KINDS, default="vm",
                    help="vm: libvirt VMs that network-boot, for bare metal; nspawn: booted "
                         "containers with sshd, for deployed servers (default vm)")
    up.add_argument("--nodes", type=int, default=2,
                    help="how many nodes (default 2); more than an nspawn lab has adds hosts")
    up.add_argument("--name", help="the lab's name: nodes are NAME-0, NAME-1 ... (default "
                                   "baremetal for VMs, overcloud for nspawn hosts)")
    up.add_argument("--bridge", help="the provisioning bridge (default: the config's "
                                     "baremetal.provisioning_bridge)")
    up.add_argument("--first-address", help="nspawn: the first host's address; the next "
                                             "ones follow in its /24, whose .1 the lab machine "
                                             "has (default 192.168.24.150)")
    up.add_argument("--memory", type=int, default=1024, help="VMs: MiB each (default 1024)")
    up.add_argument("--cpus", type=int, default=1, help="VMs: CPUs each (default 1)")
    up.add_argument("--disk", type=int, default=4, help="VMs: GiB of disk each (default 4)")
    up.add_argument("--first-bmc-port", type=int,
                    help="the first BMC's UDP port on 127.0.0.1; the next ones follow "
                         "(default 6230)")
    for name, text in (("down", "remove the lab's VMs or hosts, BMCs and the bridge it made"),
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
            if args.kind == "nspawn":
                return _up_hosts(config, args, lab_dir)
            return _up(lab, config, args, lab_dir)
        state = lab.load(os.path.abspath(lab_dir))
        if state is None:
            print(f"No lab in {lab_dir}.")
            return 0 if args.lab_command == "down" else 3
        if lab.kind_of(state) == "nspawn":
            return _down_hosts(state) if args.lab_command == "down" else _status_hosts(state)
        if args.lab_command == "down":
            return _down(lab, lab_dir)
        return _status(lab, lab_dir)
    except lab.LabError as exc:
        print(f"stackbox lab: {exc}", file=sys.stderr)
        return 1


# ---- VMs -----------------------------------------------------------------------------------

def _up(lab, config, args, lab_dir) -> int:
    bridge = args.bridge or config["baremetal"]["provisioning_bridge"]
    state = lab.up(lab_dir, args.nodes, args.name or "baremetal", bridge,
                   memory_mb=args.memory, cpus=args.cpus, disk_gb=args.disk,
                   first_bmc_port=args.first_bmc_port or 6230)
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
    print(f"Removed the lab in {lab_dir}: {len(state['nodes'])} VMs with their disks and "
          f"BMCs{', and bridge ' + state['bridge'] if state['bridge_made'] else ''}; "
          "the logs stay in logs/.")
    return 0


def _status(lab, lab_dir) -> int:
    rows = lab.status(lab_dir)
    print(f"{'NODE':<20}{'MAC':<20}{'POWER':<9}{'BMC':<18}BMC STATE")
    healthy = True
    for row in rows:
        healthy &= row["bmc_answers"] and row["power"] != "missing"
        print(f"{row['name']:<20}{row['mac']:<20}{row['power']:<9}{row['bmc']:<18}"
              f"{_bmc_state(row)}")
    return 0 if healthy else 1


def _bmc_state(row: dict) -> str:
    return "answers" if row["bmc_answers"] else \
        "running, not answering" if row["bmc_running"] else "not running"


# ---- nspawn hosts --------------------------------------------------------------------------

def _up_hosts(config, args, lab_dir) -> int:
    from undercloud.lab import hosts
    state = hosts.up(lab_dir, args.nodes, args.name, args.bridge, args.first_address,
                     args.first_bmc_port,
                     default_bridge=config["baremetal"]["provisioning_bridge"])
    print(f"{'NAME':<14}{'ADDRESS':<17}{'BMC':<17}STATE")
    for row in hosts.status(state):
        print(f"{row['name']:<14}{row['address']:<17}{row['bmc']:<17}{_host_state(row)}")
    lab_dir = state["lab_dir"]
    print(f"Lab up in {lab_dir} on bridge {state['bridge']} "
          f"({'made by the lab, ' if state['bridge_made'] else ''}this machine is "
          f"{state['bridge_address']} on it).")
    print(f"Inventory: {os.path.join(lab_dir, hosts.INVENTORY)}; SSH key: "
          f"{os.path.join(lab_dir, hosts.SSH_KEY)} (root; host keys in "
          f"{os.path.join(lab_dir, hosts.KNOWN_HOSTS)})")
    return 0


def _host_state(row: dict) -> str:
    if row["power"] != "running":
        return row["power"]
    return "running, ssh answers" if row["ssh"] else "running, no ssh"


def _down_hosts(state) -> int:
    from undercloud.lab import hosts
    hosts.down(state)
    print(f"Removed the lab in {state['lab_dir']}: {len(state['nodes'])} nspawn hosts with "
          f"their root file systems and BMCs"
          f"{', and bridge ' + state['bridge'] if state['bridge_made'] else ''}; the logs "
          "and the SSH key stay.")
    return 0


def _status_hosts(state) -> int:
    from undercloud.lab import hosts
    rows = hosts.status(state)
    print(f"{'NAME':<14}{'ADDRESS':<17}{'POWER':<9}{'SSH':<6}{'BMC':<17}BMC STATE")
    healthy = True
    for row in rows:
        healthy &= row["bmc_answers"] and row["ssh"]
        print(f"{row['name']:<14}{row['address']:<17}{row['power']:<9}"
              f"{'yes' if row['ssh'] else 'no':<6}{row['bmc']:<17}{_bmc_state(row)}")
    return 0 if healthy else 1
