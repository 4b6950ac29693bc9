"""Who is asking: the identity a validated token carries into a request."""
from dataclasses import dataclass, field


@dataclass
class RequestContext:
    user_id: str | None = None
    user_name: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None          # set for a domain-scoped token
    system_scope: str | None = None       # "all" for a system-scoped token
    roles: list[str] = field(default_factory=list)
    token: str | None = field(default=None, repr=False)
    audit_ids: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    expires_at: str | None = None
    request_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def credentials(self) -> dict:
        """The values policy rules may test (role:, project_id:, user_id:, ...)."""
        return {"user_id": self.user_id, "project_id": self.project_id,
                "domain_id": self.domain_id, "system_scope": self.system_scope,
                "user_domain_id": self.user_domain_id,
                "project_domain_id": self.project_domain_id,
                "roles": self.roles, "is_admin": self.is_admin}
