"""The network service as the caller sees it: compute asks Neutron v2.0 over HTTP with the
user's token for security groups and a server's ports, as Nova does, so what the caller may
see and change stays the network service's decision. Errors are client.http.CloudError."""
from urllib.parse import quote, urlencode

from undercloud.client import http

TIMEOUT = 30


def _request(config, token: str, method: str, path: str, body=None):
    return http.send(f"{config.endpoint('network')}/v2.0{path}", method, body, token=token,
                     timeout=TIMEOUT)[1]


def security_groups(config, token: str, **filters) -> list[dict]:
    """The groups the caller sees, filtered as Neutron filters (a list value: any of)."""
    query = urlencode(filters, doseq=True)
    return _request(config, token, "GET",
                    f"/security-groups{'?' + query if query else ''}")["security_groups"]


def security_group(config, token: str, group_id: str) -> dict:
    return _request(config, token, "GET",
                    f"/security-groups/{quote(group_id, safe='')}")["security_group"]


def create_security_group(config, token: str, name: str, description: str) -> dict:
    return _request(config, token, "POST", "/security-groups", {
        "security_group": {"name": name, "description": description}})["security_group"]


def update_security_group(config, token: str, group_id: str, name: str,
                          description: str) -> dict:
    return _request(config, token, "PUT", f"/security-groups/{quote(group_id, safe='')}", {
        "security_group": {"name": name, "description": description}})["security_group"]


def delete_security_group(config, token: str, group_id: str):
    _request(config, token, "DELETE", f"/security-groups/{quote(group_id, safe='')}")


def server_ports(config, token: str, server_id: str) -> list[dict]:
    return _request(config, token, "GET",
                    f"/ports?{urlencode({'device_id': server_id})}")["ports"]


def set_port_security_groups(config, token: str, port_id: str, group_ids: list[str]):
    _request(config, token, "PUT", f"/ports/{quote(port_id, safe='')}",
             {"port": {"security_groups": group_ids}})
