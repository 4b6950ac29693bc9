"""Identity routes: role grants and the role assignment list.

A grant gives a user or group a role on a project, a domain or the system; an
OS-INHERIT grant reaches every project below its target instead. GET
/v3/role_assignments lists grants, and with `effective` the roles they amount to:
group grants become grants to each member, inherited grants land on each project
below, and implied roles are added. Removing a grant revokes the tokens it backed.
"""
from flask import Blueprint, g, request

from undercloud import db
from undercloud.common.errors import BadRequest, Forbidden, NotFound
from undercloud.identity import lookup, policy, revocation, views
from undercloud.identity.models import (Domain, Group, GroupMembership, ImpliedRole, Project,
                                        Role, RoleAssignment, User)
from undercloud.identity.routes import projects as project_routes

blueprint = Blueprint("identity_assignments", __name__)
A = RoleAssignment
SYSTEM = "system"
_TYPES = {("project", "user"): A.USER_PROJECT, ("project", "group"): A.GROUP_PROJECT,
          ("domain", "user"): A.USER_DOMAIN, ("domain", "group"): A.GROUP_DOMAIN,
          ("system", "user"): A.USER_SYSTEM, ("system", "group"): A.GROUP_SYSTEM}


class Grant:
    """One grant named by a URL: who (actor), on what (scope), which role, inherited or not."""

    def __init__(self, scope: str, actor: str, inherited: bool, ids: dict, role_id=None):
        self.scope, self.actor, self.inherited = scope, actor, inherited
        # Keystone's order of 404s: the role, then the user or group, then the target.
        self.role = lookup.get_role(role_id) if role_id else None
        self.actor_row = (lookup.get_user if actor == "user" else lookup.get_group)(
            ids[f"{actor}_id"])
        self.target = {actor: {"id": self.actor_row.id, "name": self.actor_row.name,
                               "domain_id": self.actor_row.domain_id}}
        if scope == "project":
            self.scope_row = lookup.get_project(ids["project_id"])
            self.target["project"] = {"id": self.scope_row.id, "name": self.scope_row.name,
                                      "domain_id": self.scope_row.domain_id}
        elif scope == "domain":
            self.scope_row = lookup.get_domain(ids["domain_id"])
            self.target["domain"] = {"id": self.scope_row.id, "name": self.scope_row.name}
        else:
            self.scope_row = None
        if self.role is not None:
            self.target["role"] = {"id": self.role.id, "name": self.role.name,
                                   "domain_id": self.role.domain_id}

    @property
    def type(self) -> str:
        return _TYPES[(self.scope, self.actor)]

    @property
    def target_id(self) -> str:
        return self.scope_row.id if self.scope_row is not None else SYSTEM

    def enforce(self, verb: str):
        """check/list/create/revoke, as Keystone names the grant (or system grant) action."""
        if self.scope == SYSTEM:
            names = {"check": "check_system_grant_for", "list": "list_system_grants_for",
                     "create": "create_system_grant_for", "revoke": "revoke_system_grant_for"}
            policy.enforce(f"identity:{names[verb]}_{self.actor}", self.target)
        else:
            action = {"check": "check_grant", "list": "list_grants",
                      "create": "create_grant", "revoke": "revoke_grant"}[verb]
            policy.enforce(f"identity:{action}", self.target)

    def rows(self):
        return A.select().where(A.type == self.type, A.actor_id == self.actor_row.id,
                                A.target_id == self.target_id, A.inherited == self.inherited)

    def row(self):
        return self.rows().where(A.role == self.role.id).first()

    def not_found(self) -> NotFound:
        return NotFound(f"Could not find role assignment with role: {self.role.id}, user or "
                        f"group: {self.actor_row.id}, project, domain, or system: "
                        f"{self.target_id}.")

    def affected_users(self) -> list[str]:
        if self.actor == "user":
            return [self.actor_row.id]
        return [m.user_id for m in GroupMembership.select(GroupMembership.user)
                .where(GroupMembership.group == self.actor_row.id)]

    def revoke_tokens(self):
        """Stop the tokens this grant backed: the user's tokens on the target (or all of them)."""
        for user_id in self.affected_users():
            if self.scope == "project" and not self.inherited:
                revocation.revoke(user_id=user_id, project_id=self.target_id)
            elif self.scope == "domain" and not self.inherited:
                revocation.revoke(user_id=user_id, domain_id=self.target_id)
            else:
                revocation.revoke(user_id=user_id)


def list_grants(scope, actor, inherited, **ids):
    grant = Grant(scope, actor, inherited, ids)
    grant.enforce("list")
    roles = (Role.select().join(A, on=(A.role == Role.id))
             .where(A.id.in_(grant.rows().select(A.id))).order_by(Role.name))
    return views.collection("roles", [views.role(r) for r in roles])


def check_grant(scope, actor, inherited, role_id, **ids):
    grant = Grant(scope, actor, inherited, ids, role_id)
    grant.enforce("check")
    if grant.row() is None:
        raise grant.not_found()
    return "", 204


def create_grant(scope, actor, inherited, role_id, **ids):
    grant = Grant(scope, actor, inherited, ids, role_id)
    grant.enforce("create")
    role = grant.role
    if scope == "project" and role.domain_id and role.domain_id != grant.scope_row.domain_id:
        raise Forbidden(f"Project {grant.scope_row.id} must be in the same domain as the role "
                        f"{role.id} being assigned.")
    if scope == SYSTEM and role.domain_id:
        raise BadRequest(f"Role {role.id} is a domain-specific role. Unable to use a "
                         "domain-specific role in a system assignment.")
    with db.transaction():
        if grant.row() is None:
            A.create(type=grant.type, actor_id=grant.actor_row.id, target_id=grant.target_id,
                     role=role, inherited=inherited)
    revocation.flush_token_cache()  # live tokens gain the role now, not after their cache ages
    return "", 204


def revoke_grant(scope, actor, inherited, role_id, **ids):
    grant = Grant(scope, actor, inherited, ids, role_id)
    grant.enforce("revoke")
    with db.transaction():
        row = grant.row()
        if row is None:
            raise grant.not_found()
        row.delete_instance()
    grant.revoke_tokens()
    return "", 204


def _route(path: str, name: str, view, methods, **defaults):
    blueprint.add_url_rule(path, name, view, methods=methods, defaults=defaults)


def _register_grant_routes():
    views_by_method = (("GET", "check", check_grant), ("PUT", "create", create_grant),
                       ("DELETE", "revoke", revoke_grant))
    for scope in ("project", "domain"):
        for actor in ("user", "group"):
            base = f"/{scope}s/<{scope}_id>/{actor}s/<{actor}_id>/roles"
            kinds = dict(scope=scope, actor=actor)
            _route(f"/v3{base}", f"list_{scope}_{actor}_grants", list_grants, ["GET"],
                   inherited=False, **kinds)
            for method, verb, view in views_by_method:
                _route(f"/v3{base}/<role_id>", f"{verb}_{scope}_{actor}_grant", view,
                       [method], inherited=False, **kinds)
                # OS-INHERIT: the grant reaches every project below the domain or project.
                _route(f"/v3/OS-INHERIT{base}/<role_id>/inherited_to_projects",
                       f"{verb}_inherited_{scope}_{actor}_grant", view, [method],
                       inherited=True, **kinds)
            if scope == "domain":
                _route(f"/v3/OS-INHERIT{base}/inherited_to_projects",
                       f"list_inherited_{scope}_{actor}_grants", list_grants, ["GET"],
                       inherited=True, **kinds)
    for actor in ("user", "group"):
        base = f"/v3/system/{actor}s/<{actor}_id>/roles"
        kinds = dict(scope=SYSTEM, actor=actor, inherited=False)
        _route(base, f"list_system_{actor}_grants", list_grants, ["GET"], **kinds)
        for method, verb, view in views_by_method:
            _route(f"{base}/<role_id>", f"{verb}_system_{actor}_grant", view, [method], **kinds)


_register_grant_routes()


# --- GET /v3/role_assignments -------------------------------------------------------------

def _flag(name: str) -> bool:
    """Keystone's query flags: present and not "0" means true."""
    return name in request.args and request.args[name] != "0"


def _entity(row: RoleAssignment) -> dict:
    """A grant row as Keystone's assignment entity: {user_id|group_id, project_id|..., role_id}."""
    entity = {"role_id": row.role_id,
              ("user_id" if row.type.startswith("User") else "group_id"): row.actor_id}
    if row.type in (A.USER_PROJECT, A.GROUP_PROJECT):
        entity["project_id"] = row.target_id
    elif row.type in (A.USER_DOMAIN, A.GROUP_DOMAIN):
        entity["domain_id"] = row.target_id
    else:
        entity["system"] = {"all": True}
    if row.inherited:
        entity["inherited_to_projects"] = True
    return entity


def _members() -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for m in GroupMembership.select(GroupMembership.group, GroupMembership.user):
        members.setdefault(m.group_id, []).append(m.user_id)
    return members


def _projects_below(entity: dict, tree: dict[str, list[str]], by_domain) -> list[str]:
    if "domain_id" in entity:
        return by_domain.get(entity["domain_id"], [])
    found, frontier = [], [entity["project_id"]]
    while frontier:
        children = [c for p in frontier for c in tree.get(p, [])]
        found.extend(children)
        frontier = children
    return found


def _expand(entities: list[dict]) -> list[dict]:
    """Keystone's effective mode: groups into members, inheritance onto projects below."""
    members = _members()
    tree: dict[str, list[str]] = {}
    by_domain: dict[str, list[str]] = {}
    for project in Project.select(Project.id, Project.parent, Project.domain):
        by_domain.setdefault(project.domain_id, []).append(project.id)
        if project.parent_id:
            tree.setdefault(project.parent_id, []).append(project.id)
    expanded = []
    for entity in entities:
        if "group_id" in entity:
            people = [{**{k: v for k, v in entity.items() if k != "group_id"}, "user_id": user,
                       "indirect": {"group_id": entity["group_id"]}}
                      for user in members.get(entity["group_id"], [])]
        else:
            people = [entity]
        for person in people:
            if not person.pop("inherited_to_projects", False):
                expanded.append(person)
                continue
            source = "domain_id" if "domain_id" in person else "project_id"
            for project_id in _projects_below(person, tree, by_domain):
                ref = {k: v for k, v in person.items() if k not in ("domain_id", "project_id")}
                ref["indirect"] = {**person.get("indirect", {}), source: person[source]}
                ref["project_id"] = project_id
                expanded.append(ref)
    return expanded


def _add_implied(entities: list[dict]) -> list[dict]:
    """Each entity again for every role its role implies, transitively (cycles stop)."""
    implies: dict[str, list[str]] = {}
    for rule in ImpliedRole.select(ImpliedRole.prior_role, ImpliedRole.implied_role):
        implies.setdefault(rule.prior_role_id, []).append(rule.implied_role_id)
    results, pending = list(entities), list(entities)
    while pending:
        entity = pending.pop()
        for implied in implies.get(entity["role_id"], []):
            ref = {**entity, "role_id": implied,
                   "indirect": {**entity.get("indirect", {}), "role_id": entity["role_id"]}}
            if ref not in results:
                results.append(ref)
                pending.append(ref)
    return results


class _Names:
    """Names for include_names, fetched once per kind."""

    def __init__(self):
        self.domains = {d.id: d.name for d in Domain.select(Domain.id, Domain.name)}
        self.roles = {r.id: r for r in Role.select()}
        self.users = {u.id: u for u in User.select(User.id, User.name, User.domain)}
        self.groups = {g.id: g for g in Group.select(Group.id, Group.name, Group.domain)}
        self.projects = {p.id: p for p in Project.select(Project.id, Project.name,
                                                         Project.domain)}

    def _owned(self, row, row_id) -> dict:
        if row is None:
            return {"id": row_id}
        return {"id": row.id, "name": row.name,
                "domain": {"id": row.domain_id, "name": self.domains.get(row.domain_id)}}

    def user(self, user_id):
        return self._owned(self.users.get(user_id), user_id)

    def group(self, group_id):
        return self._owned(self.groups.get(group_id), group_id)

    def project(self, project_id):
        return self._owned(self.projects.get(project_id), project_id)

    def domain(self, domain_id):
        return {"id": domain_id, "name": self.domains.get(domain_id)}

    def role(self, role_id):
        role = self.roles.get(role_id)
        body = {"id": role_id, "name": role.name if role else None}
        if role is not None and role.domain_id:
            body["domain"] = self.domain(role.domain_id)
        return body


def _format(entity: dict, names: _Names | None) -> dict:
    """Keystone's assignment body, with its links (assignment, membership, prior_role)."""
    body, link = {"links": {}}, ""
    indirect = entity.get("indirect", {})
    inherited = entity.get("inherited_to_projects", False)
    if "project_id" in entity:
        project_id = entity["project_id"]
        body["scope"] = {"project": names.project(project_id) if names else {"id": project_id}}
        if "domain_id" in indirect:
            inherited, link = True, f"/domains/{indirect['domain_id']}"
        elif "project_id" in indirect:
            inherited, link = True, f"/projects/{indirect['project_id']}"
        else:
            link = f"/projects/{project_id}"
    elif "domain_id" in entity:
        domain_id = entity["domain_id"]
        body["scope"] = {"domain": names.domain(domain_id) if names else {"id": domain_id}}
        link = f"/domains/{domain_id}"
    else:
        body["scope"] = {"system": entity["system"]}
        link = "/system"
    if "user_id" in entity:
        user_id = entity["user_id"]
        body["user"] = names.user(user_id) if names else {"id": user_id}
        if "group_id" in indirect:
            body["links"]["membership"] = views.url(f"groups/{indirect['group_id']}/users/"
                                                    f"{user_id}")
            link += f"/groups/{indirect['group_id']}"
        else:
            link += f"/users/{user_id}"
    else:
        group_id = entity["group_id"]
        body["group"] = names.group(group_id) if names else {"id": group_id}
        link += f"/groups/{group_id}"
    role_id = entity["role_id"]
    body["role"] = names.role(role_id) if names else {"id": role_id}
    prior_link = ""
    if "role_id" in indirect:
        link += f"/roles/{indirect['role_id']}"
        # Keystone's own (odd) shape of this link, kept for clients that read it.
        prior_link = f"/prior_role/{role_id}/implies/{indirect['role_id']}"
    else:
        link += f"/roles/{role_id}"
    if inherited:
        body["scope"]["OS-INHERIT:inherited_to"] = "projects"
        link = f"/OS-INHERIT{link}/inherited_to_projects"
    body["links"]["assignment"] = views.url(link)
    if prior_link:
        body["links"]["prior_role"] = views.url(prior_link)
    return body


def _check_filters(args, effective: bool, inherited):
    if args.get("scope.domain.id") and args.get("scope.project.id"):
        raise BadRequest("Specify a domain or project, not both")
    if args.get("scope.domain.id") and args.get("scope.system"):
        raise BadRequest("Specify system or domain, not both")
    if args.get("scope.project.id") and args.get("scope.system"):
        raise BadRequest("Specify system or project, not both")
    if args.get("user.id") and args.get("group.id"):
        raise BadRequest("Specify a user or group, not both")
    if effective and args.get("group.id"):
        raise BadRequest("Combining effective and group filter will always result in an empty "
                         "list.")
    if effective and inherited and args.get("scope.domain.id"):
        raise BadRequest("Combining effective, domain and inherited filters will always result "
                         "in an empty list.")


def _wanted(entity: dict, args, project_ids, inherited) -> bool:
    indirect = entity.get("indirect", {})
    is_inherited = entity.get("inherited_to_projects", False) or \
        "domain_id" in indirect or "project_id" in indirect
    checks = [
        ("role.id", entity.get("role_id")), ("user.id", entity.get("user_id")),
        ("group.id", entity.get("group_id")), ("scope.domain.id", entity.get("domain_id")),
    ]
    if any(args.get(name) and args[name] != value for name, value in checks):
        return False
    if project_ids is not None and entity.get("project_id") not in project_ids:
        return False
    if args.get("scope.system") and "system" not in entity:
        return False
    return inherited is None or inherited == is_inherited


def _domain_scope_only(refs: list[dict], domain_id: str) -> list[dict]:
    """What a domain-scoped reader may see: assignments on the domain or its projects."""
    in_domain = {p.id for p in Project.select(Project.id).where(Project.domain == domain_id)}
    return [r for r in refs if r["scope"].get("domain", {}).get("id") == domain_id
            or r["scope"].get("project", {}).get("id") in in_domain]


@blueprint.get("/v3/role_assignments")
def list_role_assignments():
    args = request.args
    context = g.context
    project_id = args.get("scope.project.id")
    project_ids = {project_id} if project_id else None
    if _flag("include_subtree"):
        project = Project.get_or_none(Project.id == project_id) if project_id else None
        target = {}
        if project is not None:
            target = {"project": {"id": project.id, "domain_id": project.domain_id},
                      "domain_id": project.domain_id}
        policy.enforce("identity:list_role_assignments_for_tree", target)
        if not project_id:
            raise BadRequest("scope.project.id must be specified if include_subtree is also "
                             "specified")
        if project is None:
            lookup.get_project(project_id)
        project_ids |= {p.id for p in project_routes.subtree(project)}
    else:
        policy.enforce("identity:list_role_assignments",
                       {"domain_id": context.domain_id} if context.domain_id else None)
    effective = _flag("effective")
    inherited = None
    if "scope.OS-INHERIT:inherited_to" in args:
        inherited = args["scope.OS-INHERIT:inherited_to"] == "projects"
    _check_filters(args, effective, inherited)

    rows = A.select().order_by(A.type, A.actor_id, A.target_id)
    entities = [_entity(row) for row in rows]
    if effective:
        roles = {r.id: r.domain_id for r in Role.select(Role.id, Role.domain_id)}
        entities = [e for e in _add_implied(_expand(entities))
                    if not roles.get(e["role_id"])]  # domain roles only carry implications
    entities = [e for e in entities if _wanted(e, args, project_ids, inherited)]
    names = _Names() if _flag("include_names") else None
    refs = [_format(e, names) for e in entities]
    if context.domain_id:
        refs = _domain_scope_only(refs, context.domain_id)
    return {"role_assignments": refs,
            "links": {"next": None, "self": request.base_url, "previous": None}}
