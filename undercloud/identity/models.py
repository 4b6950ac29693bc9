"""Identity's tables: domains, projects, users, groups, roles, assignments, catalog,
application credentials and token revocation events."""
import peewee

from undercloud.db import BaseModel, JSONField, TimestampedModel, utcnow

DEFAULT_DOMAIN_ID = "default"


class Domain(TimestampedModel):
    name = peewee.CharField(max_length=64, unique=True)
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)
    tags = JSONField(default=list)
    extra = JSONField(default=dict)         # any other attributes the client sent


class Project(TimestampedModel):
    name = peewee.CharField(max_length=64)
    domain = peewee.ForeignKeyField(Domain, backref="projects", on_delete="CASCADE")
    parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="CASCADE")
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)
    tags = JSONField(default=list)
    options = JSONField(default=dict)
    extra = JSONField(default=dict)

    class Meta:
        indexes = ((("domain", "name"), True),)


class User(TimestampedModel):
    name = peewee.CharField(max_length=255)
    domain = peewee.ForeignKeyField(Domain, backref="users", on_delete="CASCADE")
    enabled = peewee.BooleanField(default=True)
    default_project_id = peewee.CharField(max_length=64, null=True)
    description = peewee.TextField(default="")
    options = JSONField(default=dict)       # ignore_lockout_failure_attempts, ...
    extra = JSONField(default=dict)         # email and other free attributes
    password_hash = peewee.CharField(max_length=255, null=True)
    password_created_at = peewee.DateTimeField(null=True)
    password_expires_at = peewee.DateTimeField(null=True)
    failed_auth_count = peewee.IntegerField(default=0)
    failed_auth_at = peewee.DateTimeField(null=True)
    last_active_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("domain", "name"), True),)


class PasswordHistory(BaseModel):
    """Earlier password hashes, so a user cannot go back to a recent password."""
    user = peewee.ForeignKeyField(User, backref="password_history", on_delete="CASCADE")
    password_hash = peewee.CharField(max_length=255)
    created_at = peewee.DateTimeField(default=utcnow, index=True)


class Group(TimestampedModel):
    name = peewee.CharField(max_length=64)
    domain = peewee.ForeignKeyField(Domain, backref="groups", on_delete="CASCADE")
    description = peewee.TextField(default="")
    extra = JSONField(default=dict)

    class Meta:
        indexes = ((("domain", "name"), True),)


class GroupMembership(BaseModel):
    group = peewee.ForeignKeyField(Group, backref="memberships", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")

    class Meta:
        indexes = ((("group", "user"), True),)


class Role(TimestampedModel):
    name = peewee.CharField(max_length=255)
    # None for a global role; a domain id for a domain-specific role.
    domain_id = peewee.CharField(max_length=64, null=True)
    description = peewee.TextField(default="")
    options = JSONField(default=dict)
    extra = JSONField(default=dict)

    class Meta:
        indexes = ((("name", "domain_id"), True),)


class ImpliedRole(BaseModel):
    """prior_role implies implied_role: admin implies member, member implies reader."""
    prior_role = peewee.ForeignKeyField(Role, backref="implies", on_delete="CASCADE")
    implied_role = peewee.ForeignKeyField(Role, backref="implied_by", on_delete="CASCADE")

    class Meta:
        indexes = ((("prior_role", "implied_role"), True),)


class RoleAssignment(BaseModel):
    """A role granted to a user or group on a project, a domain or the system."""
    USER_PROJECT, GROUP_PROJECT = "UserProject", "GroupProject"
    USER_DOMAIN, GROUP_DOMAIN = "UserDomain", "GroupDomain"
    USER_SYSTEM, GROUP_SYSTEM = "UserSystem", "GroupSystem"

    type = peewee.CharField(max_length=16)
    actor_id = peewee.CharField(max_length=64, index=True)
    target_id = peewee.CharField(max_length=64, index=True)   # "system" for the system scope
    role = peewee.ForeignKeyField(Role, backref="assignments", on_delete="CASCADE")
    inherited = peewee.BooleanField(default=False)

    class Meta:
        indexes = ((("type", "actor_id", "target_id", "role", "inherited"), True),)


class Region(TimestampedModel):
    description = peewee.TextField(default="")
    parent_region_id = peewee.CharField(max_length=255, null=True)
    extra = JSONField(default=dict)


class CatalogService(TimestampedModel):
    type = peewee.CharField(max_length=255, index=True)
    name = peewee.CharField(max_length=255, default="")
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)
    extra = JSONField(default=dict)


class Endpoint(TimestampedModel):
    service = peewee.ForeignKeyField(CatalogService, backref="endpoints", on_delete="CASCADE")
    interface = peewee.CharField(max_length=8)          # public, internal, admin
    url = peewee.TextField()
    region_id = peewee.CharField(max_length=255, null=True)
    enabled = peewee.BooleanField(default=True)
    extra = JSONField(default=dict)


class ApplicationCredential(TimestampedModel):
    name = peewee.CharField(max_length=255)
    user = peewee.ForeignKeyField(User, backref="application_credentials", on_delete="CASCADE")
    project_id = peewee.CharField(max_length=64)
    secret_hash = peewee.CharField(max_length=255)
    description = peewee.TextField(default="")
    expires_at = peewee.DateTimeField(null=True)
    unrestricted = peewee.BooleanField(default=False)
    roles = JSONField(default=list)                      # [{"id", "name", "domain_id"}]
    access_rules = JSONField(default=list)

    class Meta:
        indexes = ((("user", "name"), True),)


class RevocationEvent(BaseModel):
    """Tokens matching every non-null field, issued before issued_before, are revoked."""
    user_id = peewee.CharField(max_length=64, null=True, index=True)
    project_id = peewee.CharField(max_length=64, null=True)
    domain_id = peewee.CharField(max_length=64, null=True)
    role_id = peewee.CharField(max_length=64, null=True)
    audit_id = peewee.CharField(max_length=32, null=True, index=True)
    audit_chain_id = peewee.CharField(max_length=32, null=True, index=True)
    issued_before = peewee.DateTimeField()
    revoked_at = peewee.DateTimeField(default=utcnow, index=True)


TABLES = [Domain, Project, User, PasswordHistory, Group, GroupMembership, Role, ImpliedRole,
          RoleAssignment, Region, CatalogService, Endpoint, ApplicationCredential,
          RevocationEvent]
