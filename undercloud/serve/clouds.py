"""DATA_DIR/clouds.yaml: the `stackbox` cloud for openstack CLI, openstacksdk and Ansible."""
import yaml

from undercloud.common.files import write_secret


def admin_cloud(identity_endpoint: str, password: str, region: str) -> dict:
    """A clouds.yaml entry for the admin user in the admin project."""
    return {
        "auth": {"auth_url": f"{identity_endpoint}/v3",
                 "username": "admin", "password": password,
                 "project_name": "admin", "user_domain_name": "Default",
                 "project_domain_name": "Default"},
        "region_name": region,
        "identity_api_version": 3,
        "interface": "public",
    }


def write(config, password: str) -> str:
    path = config.path("clouds.yaml")
    document = {"clouds": {"stackbox": admin_cloud(config.endpoint("identity"), password,
                                                   config["region"])}}
    # It holds the admin password, so it is a secret file.
    write_secret(path, yaml.safe_dump(document, sort_keys=False))
    return path
