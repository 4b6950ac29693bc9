"""DATA_DIR/clouds.yaml: the `stackbox` cloud for openstack CLI, openstacksdk and Ansible."""
import yaml

from undercloud.common.files import write_secret


def write(config, password: str) -> str:
    path = config.path("clouds.yaml")
    document = {"clouds": {"stackbox": {
        "auth": {"auth_url": f"{config.endpoint('identity')}/v3",
                 "username": "admin", "password": password,
                 "project_name": "admin", "user_domain_name": "Default",
                 "project_domain_name": "Default"},
        "region_name": config["region"],
        "identity_api_version": 3,
        "interface": "public",
    }}}
    # It holds the admin password, so it is a secret file.
    write_secret(path, yaml.safe_dump(document, sort_keys=False))
    return path
