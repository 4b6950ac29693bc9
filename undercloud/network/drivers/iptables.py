"""Running iptables-restore / iptables-save (IPv4 and IPv6) in the caller's namespace.

Every change goes through iptables-restore: one atomic transaction per table and family.
"""
import subprocess

FAMILIES = {4: ("iptables-restore", "iptables-save"), 6: ("ip6tables-restore", "ip6tables-save")}
TIMEOUT = 30


class IptablesError(Exception):
    """A restore was refused; the message has the tool's own words."""


def restore(version: int, text: str, noflush: bool = True) -> None:
    command = [FAMILIES[version][0], "-w", "5"] + (["--noflush"] if noflush else [])
    result = subprocess.run(command, input=text, capture_output=True, text=True,
                            timeout=TIMEOUT)
    if result.returncode != 0:
        raise IptablesError(f"{command[0]} failed: {result.stderr.strip()}")


def save(version: int, table: str = "filter") -> str:
    result = subprocess.run([FAMILIES[version][1], "-t", table], capture_output=True,
                            text=True, timeout=TIMEOUT)
    if result.returncode != 0:
        raise IptablesError(f"{FAMILIES[version][1]} failed: {result.stderr.strip()}")
    return result.stdout


def chains(saved: str) -> set[str]:
    """The chain names an iptables-save listing declares."""
    return {line[1:].split()[0] for line in saved.splitlines() if line.startswith(":")}


def has_rule(saved: str, rule: str) -> bool:
    return rule in saved.splitlines()
