"""What `stackbox overcloud plan` prints: hosts per role, services per host, and the changes
since the last deploy. Each function returns the lines; the command prints them."""
from undercloud.deploy import roles as catalogue
from undercloud.deploy.plan import Plan


def services_text(services) -> str:
    """"network-agent:dhcp", "network-agent:l3" read as "network-agent (dhcp, l3)"."""
    modes: dict[str, list[str]] = {}
    for service in services:
        name, _, mode = service.partition(":")
        modes.setdefault(name, [])
        if mode:
            modes[name].append(mode)
    return ", ".join(f"{name} ({', '.join(found)})" if found else name
                     for name, found in modes.items())


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) + 2 for column in range(len(rows[0]) - 1)]
    return ["".join(cell.ljust(width) for cell, width in zip(row, widths)) + row[-1]
            for row in rows]


def table(plan: Plan) -> list[str]:
    """The summary line, then hosts per role, then each host's address, roles and services."""
    summary = f"Overcloud {plan.name}: {len(plan.hosts)} deployed server(s)"
    if plan.baremetal:
        nodes = sum(role.count for role in plan.baremetal.roles.values())
        summary += (f", {nodes} bare-metal node(s) from cloud {plan.baremetal.cloud} "
                    f"(image {plan.baremetal.image})")
    role_order = list(catalogue.CATALOGUE)
    # Grouped by first role in catalogue order, then by name, so the table reads the same
    # whatever order the file lists hosts in.
    hosts = sorted(plan.hosts.values(), key=lambda host: (role_order.index(host.roles[0]),
                                                          host.name))
    role_rows = [("ROLE", "HOSTS")]
    for role in role_order:
        members = [host.name for host in hosts if role in host.roles]
        wanted = plan.baremetal.roles.get(role) if plan.baremetal else None
        if wanted:
            members.append(f"{wanted.count} bare-metal node(s) (profile {wanted.profile})")
        if members:
            role_rows.append((role, ", ".join(members)))
    host_rows = [("HOST", "ADDRESS", "ROLES", "SERVICES")] + [
        (host.name, host.address, ",".join(host.roles), services_text(host.services))
        for host in hosts]
    lines = [summary, ""] + _columns(role_rows)
    return lines + ([""] + _columns(host_rows) if hosts else [])


def _host_changes(before, after) -> list[str]:
    changes = []
    if before.address != after.address:
        changes.append(f"~ {after.name} address: {before.address} -> {after.address}")
    if before.roles != after.roles:
        changes.append(f"~ {after.name} roles: {','.join(before.roles)} -> "
                       f"{','.join(after.roles)}")
    added = [f"+{service}" for service in after.services if service not in before.services]
    removed = [f"-{service}" for service in before.services if service not in after.services]
    if added or removed:
        changes.append(f"~ {after.name} services: {' '.join(added + removed)}")
    return changes


def _baremetal_changes(before: Plan, after: Plan) -> list[str]:
    old = before.baremetal.roles if before.baremetal else {}
    new = after.baremetal.roles if after.baremetal else {}
    changes = [f"+ baremetal {role}: {new[role].count} node(s) (profile {new[role].profile})"
               for role in new if role not in old]
    changes += [f"- baremetal {role}: {old[role].count} node(s)" for role in old
                if role not in new]
    for role in (role for role in new if role in old):
        if old[role].count != new[role].count:
            changes.append(f"~ baremetal {role}: {old[role].count} -> {new[role].count} "
                           "node(s)")
        if old[role].profile != new[role].profile:
            changes.append(f"~ baremetal {role} profile: {old[role].profile} -> "
                           f"{new[role].profile}")
    if before.baremetal and after.baremetal:
        changes += [f"~ baremetal {key}: {getattr(before.baremetal, key)} -> "
                    f"{getattr(after.baremetal, key)}" for key in ("cloud", "image")
                    if getattr(before.baremetal, key) != getattr(after.baremetal, key)]
    return changes


def diff(before: Plan, after: Plan) -> list[str]:
    """One line per change since `before`: + added, - removed, ~ changed."""
    changes = [f"+ {name} {','.join(after.hosts[name].roles)} ({after.hosts[name].address})"
               for name in sorted(after.hosts) if name not in before.hosts]
    changes += [f"- {name} {','.join(before.hosts[name].roles)} "
                f"({before.hosts[name].address})"
                for name in sorted(before.hosts) if name not in after.hosts]
    for name in sorted(after.hosts):
        if name in before.hosts:
            changes += _host_changes(before.hosts[name], after.hosts[name])
    changes += _baremetal_changes(before, after)
    changes += [f"~ settings {role}: {before.settings.get(role, {})} -> "
                f"{after.settings.get(role, {})}"
                for role in catalogue.CATALOGUE
                if before.settings.get(role, {}) != after.settings.get(role, {})]
    return changes or ["nothing changed"]
