"""Effective roles: direct and group assignments, inheritance down the project tree,
and implied roles (admin implies member implies reader)."""
from undercloud.identity.models import (GroupMembership, ImpliedRole, Project, Role,
                                        RoleAssignment)

A = RoleAssignment


def group_ids(user_id: str) -> list[str]:
    return [m.group_id for m in GroupMembership.select(GroupMembership.group)
            .where(GroupMembership.user == user_id)]


def implied_closure(role_ids) -> set[str]:
    """The roles given plus every role they imply, transitively."""
    found, frontier = set(role_ids), set(role_ids)
    while frontier:
        step = {r.implied_role_id for r in ImpliedRole.select(ImpliedRole.implied_role)
                .where(ImpliedRole.prior_role.in_(list(frontier)))}
        frontier = step - found
        found |= step
    return found


def _ancestors(project: Project) -> list[str]:
    ids, parent = [], project.parent_id
    while parent:
        ids.append(parent)
        parent = Project.get_or_none(Project.id == parent)
        parent = parent.parent_id if parent else None
    return ids


def direct_role_ids(user_id: str, project_id: str | None = None, domain_id: str | None = None,
                    system: bool = False) -> set[str]:
    """Role ids granted on the target to the user or their groups, before implication."""
    actors = [user_id, *group_ids(user_id)]
    query = A.select(A.role).where(A.actor_id.in_(actors))
    if system:
        return {a.role_id for a in query.where(A.target_id == "system",
                                               A.type.in_([A.USER_SYSTEM, A.GROUP_SYSTEM]))}
    if project_id:
        project = Project.get_or_none(Project.id == project_id)
        if project is None:
            return set()
        direct = (A.target_id == project_id) & (A.inherited == False)  # noqa: E712
        inherited = (A.target_id.in_([*_ancestors(project), project.domain_id])) & \
            (A.inherited == True)  # noqa: E712
        return {a.role_id for a in query.where(
            A.type.in_([A.USER_PROJECT, A.GROUP_PROJECT, A.USER_DOMAIN, A.GROUP_DOMAIN]),
            direct | inherited)}
    if domain_id:
        return {a.role_id for a in query.where(
            A.type.in_([A.USER_DOMAIN, A.GROUP_DOMAIN]), A.target_id == domain_id,
            A.inherited == False)}  # noqa: E712
    return set()


def roles(user_id: str, project_id: str | None = None, domain_id: str | None = None,
          system: bool = False) -> list[Role]:
    """The user's effective roles on one target, implied roles included."""
    ids = implied_closure(direct_role_ids(user_id, project_id, domain_id, system))
    return list(Role.select().where(Role.id.in_(list(ids)))) if ids else []


def project_ids(user_id: str) -> set[str]:
    """Projects on which the user has any effective role (directly, by group or inherited)."""
    actors = [user_id, *group_ids(user_id)]
    rows = A.select(A.target_id, A.type, A.inherited).where(A.actor_id.in_(actors))
    found = {a.target_id for a in rows if a.type in (A.USER_PROJECT, A.GROUP_PROJECT)
             and not a.inherited}
    inherit_from = {a.target_id for a in rows if a.inherited}
    if inherit_from:
        # Inherited grants on a domain or project reach every project below it.
        frontier = set(inherit_from)
        below = {p.id for p in Project.select(Project.id).where(Project.domain.in_(list(frontier)))}
        while frontier:
            children = {p.id for p in Project.select(Project.id)
                        .where(Project.parent.in_(list(frontier)))}
            frontier = children - below
            below |= children
        found |= below
    return found


def domain_ids(user_id: str) -> set[str]:
    actors = [user_id, *group_ids(user_id)]
    return {a.target_id for a in A.select(A.target_id).where(
        A.actor_id.in_(actors), A.type.in_([A.USER_DOMAIN, A.GROUP_DOMAIN]),
        A.inherited == False)}  # noqa: E712


def has_system_role(user_id: str) -> bool:
    return bool(direct_role_ids(user_id, system=True))
