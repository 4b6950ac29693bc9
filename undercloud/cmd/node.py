"""`stackbox node import/introspect`: register bare-metal nodes from a nodes file and
introspect them, through the cloud's Ironic API (a clouds.yaml cloud, default stackbox)."""
import os
import sys


def add_parser(commands, add_config_flags):
    node = commands.add_parser("node", help="bare-metal nodes: import and introspect")
    node_commands = node.add_subparsers(dest="node_command", required=True, metavar="COMMAND")
    import_ = node_commands.add_parser(
        "import", help="create or update nodes (driver ipmi) and their ports from "
                       "nodes.yaml or instackenv.json")
    import_.add_argument("nodes_file", help="nodes.yaml or instackenv.json")
    introspect = node_commands.add_parser(
        "introspect", help="manage, inspect (and --provide) nodes, waiting for each step")
    introspect.add_argument("nodes", nargs="*", metavar="NODE", help="node names or UUIDs")
    introspect.add_argument("--all", action="store_true", dest="everything",
                            help="every node in enroll, manageable or inspect failed")
    introspect.add_argument("--provide", action="store_true",
                            help="then make them available (cleaning first)")
    introspect.add_argument("--timeout", type=float, default=3600,
                            help="seconds to wait for all nodes (default 3600)")
    for command in (import_, introspect):
        add_config_flags(command)
        command.add_argument("--cloud", default=os.environ.get("OS_CLOUD") or "stackbox",
                             help="the clouds.yaml cloud (default $OS_CLOUD or stackbox)")


def _say(line: str) -> None:
    print(line, flush=True)


def run(config, args) -> int:
    from undercloud.client import enroll, nodes_file
    from undercloud.client import session as cloud
    if args.node_command == "introspect" and bool(args.nodes) == args.everything:
        print("stackbox node introspect: name nodes, or --all (not both)", file=sys.stderr)
        return 2
    try:
        if args.node_command == "import":
            entries = nodes_file.read(args.nodes_file)
        api = enroll.Baremetal(cloud.Session(cloud.find_cloud(args.cloud,
                                                              config["data_dir"])))
        if args.node_command == "import":
            nodes = enroll.import_nodes(api, entries, _say)
            _say(f"Imported {len(nodes)} node(s); next: stackbox node introspect --all "
                 "--provide")
            return 0
        return 0 if enroll.introspect(api, args.nodes, args.everything, args.provide, _say,
                                      timeout=args.timeout) else 1
    except (nodes_file.NodesFileError, cloud.CloudError) as exc:
        print(f"stackbox node {args.node_command}: {exc}", file=sys.stderr)
        return 1
