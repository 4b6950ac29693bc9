"""`stackbox repo build/show`: the package repository overcloud hosts install from
(undercloud.deploy.repo)."""
import sys

from undercloud.deploy.repo_tools import megabytes


def add_parser(commands, add_config_flags):
    repo = commands.add_parser("repo", help="the package repository overcloud hosts install "
                                            "from")
    repo_commands = repo.add_subparsers(dest="repo_command", required=True, metavar="COMMAND")
    build = repo_commands.add_parser(
        "build", help="fill DATA_DIR/repo: the stackbox wheel and its dependencies, and the "
                      "roles' Debian packages with what they need beyond the node image")
    build.add_argument("--checkout", help="the stackbox source tree (default: this one)")
    build.add_argument("--packages", help="comma-separated Debian packages instead of the "
                                          "roles' ROLE_packages")
    add_config_flags(build)
    show = repo_commands.add_parser("show", help="what the repository holds and its URL")
    add_config_flags(show)


def run(config, args) -> int:
    from undercloud.deploy import repo
    if args.repo_command == "show":
        return _show(repo.describe(config))
    packages = None
    if args.packages is not None:
        packages = [name.strip() for name in args.packages.split(",") if name.strip()]
    try:
        result = repo.build(config, args.checkout, packages)
    except repo.RepoError as exc:
        print(f"stackbox repo build: {exc}", file=sys.stderr)
        return 1
    print(f"Repository built in {result['seconds']:.0f} s: {config.path('repo')}, served at "
          f"{repo.url(config)}/")
    return 0


def _show(described: dict) -> int:
    python, debian = described["python"], described["debian"]
    stackbox = python["stackbox"]
    print(f"Folder:   {described['path']}")
    print(f"URL:      {described['url']}/ (the bare-metal conductor's provisioning HTTP "
          f"server)")
    if stackbox is None:
        print("Stackbox: no wheel yet: run `stackbox repo build`")
    else:
        print(f"Stackbox: {stackbox['wheel']} sha256 {stackbox['sha256']}")
    print(f"Python:   {python['wheels']} wheels, {megabytes(python['bytes'])}")
    requested = debian["requested"]
    print(f"Debian:   {debian['debs']} debs, {megabytes(debian['bytes'])}"
          + (f" for {len(requested)} requested packages: {' '.join(requested)}"
             if requested is not None else ""))
    if not described["complete"]:
        print("The repository is incomplete: run `stackbox repo build`.")
    return 0
