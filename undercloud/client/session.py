"""A logged-in session of a clouds.yaml cloud: a password login to Keystone v3, then JSON
requests to a service from the catalog, as openstacksdk would send them (the main venv
carries no OpenStack client)."""
import os

import yaml

from undercloud.client import http
from undercloud.client.http import ApiError, CloudError  # noqa: F401 (callers take them from here)


def clouds_files(data_dir: str | None) -> list[str]:
    """Where clouds.yaml is looked for, as openstacksdk does, then the undercloud's own."""
    files = [os.environ.get("OS_CLIENT_CONFIG_FILE"), "clouds.yaml",
             os.path.expanduser("~/.config/openstack/clouds.yaml"),
             "/etc/openstack/clouds.yaml"]
    if data_dir:
        files.append(os.path.join(data_dir, "clouds.yaml"))
    return [path for path in files if path]


def find_cloud(name: str, data_dir: str | None = None) -> dict:
    for path in clouds_files(data_dir):
        try:
            with open(path) as source:
                document = yaml.safe_load(source) or {}
        except OSError:
            continue
        except yaml.YAMLError as exc:
            raise CloudError(f"cannot read {path}: {exc}") from None
        cloud = (document.get("clouds") or {}).get(name)
        if cloud:
            return cloud
    raise CloudError(f"no cloud {name!r} in {', '.join(clouds_files(data_dir))}; is "
                     "`stackbox serve` running (it writes DATA_DIR/clouds.yaml)?")


class Session:
    """A logged-in session: a token and the catalog."""

    def __init__(self, cloud: dict):
        self.cloud = cloud
        self.token = None
        self.catalog = []

    def login(self) -> None:
        auth = self.cloud.get("auth") or {}
        for field in ("auth_url", "username", "password"):
            if not auth.get(field):
                raise CloudError(f"the cloud's auth has no {field}")
        auth_url = auth["auth_url"].rstrip("/")
        auth_url = auth_url if auth_url.endswith("/v3") else f"{auth_url}/v3"

        def domain(prefix):
            if auth.get(f"{prefix}_domain_id"):
                return {"id": auth[f"{prefix}_domain_id"]}
            return {"name": auth.get(f"{prefix}_domain_name") or "Default"}

        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": auth["username"], "domain": domain("user"),
            "password": auth["password"]}}}}}
        if auth.get("project_id"):
            body["auth"]["scope"] = {"project": {"id": auth["project_id"]}}
        elif auth.get("project_name"):
            body["auth"]["scope"] = {"project": {"name": auth["project_name"],
                                                 "domain": domain("project")}}
        headers, document = http.send(f"{auth_url}/auth/tokens", "POST", body)
        self.token = headers["X-Subject-Token"]
        self.catalog = document["token"].get("catalog", [])

    def endpoint(self, service_type: str) -> str:
        if self.token is None:
            self.login()
        interface = self.cloud.get("interface", "public")
        region = self.cloud.get("region_name")
        for service in self.catalog:
            if service.get("type") != service_type:
                continue
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == interface and \
                        (not region or endpoint.get("region_id", region) == region):
                    return endpoint["url"].rstrip("/")
        raise CloudError(f"the catalog has no {interface} {service_type} endpoint"
                         f"{' in region ' + region if region else ''}")

    def request(self, url: str, method: str = "GET", body=None, headers=None):
        if self.token is None:
            self.login()
        return http.send(url, method, body, headers, token=self.token)[1]
