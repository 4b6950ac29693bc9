"""Flavors, keypairs, metadata, tags, limits, quotas, zones, hypervisors, services, groups."""
import datetime

from tests.unit.compute.conftest import IMAGE, place

ED25519 = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl "
           "me@host")


def test_default_flavors_and_listing(alice):
    flavors = alice.get("/v2.1/flavors").get_json()["flavors"]
    assert {"m1.nano", "m1.tiny", "m1.small"} <= {f["name"] for f in flavors}
    tiny = alice.get("/v2.1/flavors/1").get_json()["flavor"]
    assert tiny["ram"] == 512 and tiny["disk"] == 1 and tiny["vcpus"] == 1
    assert tiny["swap"] == 0 and tiny["description"] is None and tiny["extra_specs"] == {}
    assert alice.at("2.1").get("/v2.1/flavors/1").get_json()["flavor"]["swap"] == ""
    small = alice.get("/v2.1/flavors/detail?minRam=2048&sort_key=memory_mb").get_json()
    assert [f["ram"] for f in small["flavors"]][0] == 2048
    page = alice.get("/v2.1/flavors?limit=2").get_json()
    assert len(page["flavors"]) == 2 and page["flavors_links"]
    assert alice.get("/v2.1/flavors/nope").status_code == 404


def test_flavor_management_is_admin_only(alice, admin):
    body = {"flavor": {"name": "f1", "ram": 256, "vcpus": 1, "disk": 1, "id": "f1",
                       "description": "d"}}
    assert alice.post("/v2.1/flavors", json=body).status_code == 403
    response = admin.post("/v2.1/flavors", json=body)
    assert response.status_code == 200
    assert response.get_json()["flavor"]["description"] == "d"
    assert admin.post("/v2.1/flavors", json=body).status_code == 409
    assert admin.at("2.54").post("/v2.1/flavors", json={"flavor": {
        "name": "f2", "ram": 1, "vcpus": 1, "disk": 1, "description": "x"}}).status_code == 400
    assert admin.put("/v2.1/flavors/f1", json={"flavor": {"description": "new"}}) \
        .get_json()["flavor"]["description"] == "new"
    specs = admin.post("/v2.1/flavors/f1/os-extra_specs",
                       json={"extra_specs": {"hw:cpu_policy": "shared"}})
    assert specs.status_code == 200
    assert alice.get("/v2.1/flavors/f1/os-extra_specs/hw:cpu_policy").get_json() == {
        "hw:cpu_policy": "shared"}
    assert admin.delete("/v2.1/flavors/f1/os-extra_specs/hw:cpu_policy").status_code == 200
    assert admin.delete("/v2.1/flavors/f1").status_code == 202
    assert alice.get("/v2.1/flavors/f1").status_code == 404


def test_private_flavors_and_access_lists(alice, bob, admin):
    admin.post("/v2.1/flavors", json={"flavor": {"name": "private", "ram": 64, "vcpus": 1,
                                                 "disk": 0, "id": "p1",
                                                 "os-flavor-access:is_public": False}})
    assert alice.get("/v2.1/flavors/p1").status_code == 404
    response = admin.post("/v2.1/flavors/p1/action",
                          json={"addTenantAccess": {"tenant": "p-alice"}})
    assert {"flavor_id": "p1", "tenant_id": "p-alice"} in response.get_json()["flavor_access"]
    assert alice.get("/v2.1/flavors/p1").status_code == 200
    assert bob.get("/v2.1/flavors/p1").status_code == 404
    assert "p1" in [f["id"] for f in alice.get("/v2.1/flavors").get_json()["flavors"]]
    assert admin.post("/v2.1/flavors/p1/action", json={
        "addTenantAccess": {"tenant": "p-alice"}}).status_code == 409
    assert admin.get("/v2.1/flavors/1/os-flavor-access").status_code == 404


def test_keypairs_generate_import_show_delete(alice, bob):
    generated = alice.post("/v2.1/os-keypairs", json={"keypair": {"name": "k1"}})
    assert generated.status_code == 201
    body = generated.get_json()["keypair"]
    assert body["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert body["public_key"].startswith("ssh-rsa ") and body["type"] == "ssh"
    assert len(body["fingerprint"].split(":")) == 16
    imported = alice.post("/v2.1/os-keypairs", json={"keypair": {"name": "k2",
                                                                 "public_key": ED25519}})
    assert "private_key" not in imported.get_json()["keypair"]
    assert alice.post("/v2.1/os-keypairs", json={"keypair": {"name": "k2"}}).status_code == 409
    assert alice.post("/v2.1/os-keypairs", json={"keypair": {
        "name": "k3", "public_key": "ssh-rsa garbage"}}).status_code == 400
    names = [k["keypair"]["name"] for k in alice.get("/v2.1/os-keypairs").get_json()["keypairs"]]
    assert names == ["k1", "k2"]
    shown = alice.get("/v2.1/os-keypairs/k2").get_json()["keypair"]
    assert shown["user_id"] == "alice" and isinstance(shown["id"], int)
    assert bob.get("/v2.1/os-keypairs/k2").status_code == 404
    assert alice.delete("/v2.1/os-keypairs/k2").status_code == 204
    assert alice.at("2.1").delete("/v2.1/os-keypairs/k1").status_code == 202


def test_server_metadata_crud(alice):
    server = alice.boot(metadata={"a": "1"})
    base = f"/v2.1/servers/{server['id']}/metadata"
    assert alice.post(base, json={"metadata": {"b": "2"}}).get_json()["metadata"] == {
        "a": "1", "b": "2"}
    assert alice.put(base, json={"metadata": {"c": "3"}}).get_json()["metadata"] == {"c": "3"}
    assert alice.put(f"{base}/d", json={"meta": {"d": "4"}}).get_json() == {"meta": {"d": "4"}}
    assert alice.put(f"{base}/d", json={"meta": {"e": "4"}}).status_code == 400
    assert alice.get(f"{base}/d").get_json() == {"meta": {"d": "4"}}
    assert alice.delete(f"{base}/d").status_code == 204
    assert alice.get(f"{base}/d").status_code == 404
    assert alice.get(base).get_json()["metadata"] == {"c": "3"}


def test_server_tags(alice):
    server = alice.boot()
    base = f"/v2.1/servers/{server['id']}/tags"
    assert alice.put(f"{base}/red").status_code == 201
    assert alice.put(f"{base}/red").status_code == 204
    assert alice.get(f"{base}/red").status_code == 204
    assert alice.get(f"{base}/blue").status_code == 404
    assert alice.put(base, json={"tags": ["x", "y"]}).get_json()["tags"] == ["x", "y"]
    assert alice.put(base, json={"tags": ["a/b"]}).status_code == 400
    assert alice.delete(f"{base}/x").status_code == 204
    assert alice.delete(base).status_code == 204
    assert alice.get(base).get_json()["tags"] == []
    assert alice.at("2.25").get(base).status_code == 404


def test_limits_and_quota_sets(alice, admin):
    alice.boot()
    absolute = alice.get("/v2.1/limits").get_json()["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 10 and absolute["totalInstancesUsed"] == 1
    assert absolute["totalRAMUsed"] == 512 and "maxPersonality" not in absolute
    assert "maxPersonality" in alice.at("2.1").get("/v2.1/limits").get_json()["limits"][
        "absolute"]
    quota = alice.get("/v2.1/os-quota-sets/p-alice").get_json()["quota_set"]
    assert quota["instances"] == 10 and quota["id"] == "p-alice"
    assert "floating_ips" in alice.at("2.1").get("/v2.1/os-quota-sets/p-alice") \
        .get_json()["quota_set"]
    assert alice.get("/v2.1/os-quota-sets/p-alice/defaults").status_code == 200
    assert alice.put("/v2.1/os-quota-sets/p-alice",
                     json={"quota_set": {"cores": 2}}).status_code == 403
    updated = admin.put("/v2.1/os-quota-sets/p-alice", json={"quota_set": {"cores": 2}})
    assert updated.get_json()["quota_set"]["cores"] == 2
    detail = alice.get("/v2.1/os-quota-sets/p-alice/detail").get_json()["quota_set"]
    assert detail["cores"] == {"limit": 2, "in_use": 1, "reserved": 0}
    assert admin.delete("/v2.1/os-quota-sets/p-alice").status_code == 202
    assert alice.get("/v2.1/os-quota-sets/p-alice").get_json()["quota_set"]["cores"] == 20


def _report_host(host="host1", up=True):
    from undercloud import db
    from undercloud.compute.models import ComputeNode, ServiceRecord
    beat = db.utcnow() if up else db.utcnow() - datetime.timedelta(hours=1)
    ComputeNode.create(host=host, hypervisor_hostname=host, vcpus=4, memory_mb=4096,
                       local_gb=40, heartbeat_at=beat)
    ServiceRecord.create(binary="nova-compute", host=host, heartbeat_at=beat)


def test_zones_hypervisors_and_services(alice, admin):
    _report_host("host1")
    _report_host("host2", up=False)
    zones = alice.get("/v2.1/os-availability-zone").get_json()["availabilityZoneInfo"]
    assert zones == [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]
    assert alice.get("/v2.1/os-availability-zone/detail").status_code == 403
    detail = admin.get("/v2.1/os-availability-zone/detail").get_json()
    assert "host1" in detail["availabilityZoneInfo"][0]["hosts"]
    assert alice.get("/v2.1/os-hypervisors").status_code == 403
    hypervisors = admin.get("/v2.1/os-hypervisors/detail").get_json()["hypervisors"]
    assert [(h["hypervisor_hostname"], h["state"]) for h in hypervisors] == [
        ("host1", "up"), ("host2", "down")]
    assert hypervisors[0]["free_ram_mb"] == 4096
    shown = admin.get(f"/v2.1/os-hypervisors/{hypervisors[0]['id']}")
    assert shown.status_code == 200
    stats = admin.get("/v2.1/os-hypervisors/statistics").get_json()["hypervisor_statistics"]
    assert stats["count"] == 2 and stats["vcpus"] == 8
    services = admin.get("/v2.1/os-services").get_json()["services"]
    assert {s["state"] for s in services} == {"up", "down"}
    service_id = [s for s in services if s["host"] == "host1"][0]["id"]
    disabled = admin.put(f"/v2.1/os-services/{service_id}", json={
        "status": "disabled", "disabled_reason": "maintenance"})
    assert disabled.get_json()["service"]["status"] == "disabled"
    from undercloud.compute.models import ComputeNode
    assert ComputeNode.get(ComputeNode.host == "host1").enabled is False
    old = admin.at("2.1").put("/v2.1/os-services/enable", json={"host": "host1",
                                                                "binary": "nova-compute"})
    assert old.get_json()["service"]["status"] == "enabled"
    assert admin.delete(f"/v2.1/os-services/{service_id}").status_code == 204


def test_server_groups(alice, bob):
    old = alice.at("2.1").post("/v2.1/os-server-groups", json={"server_group": {
        "name": "g1", "policies": ["affinity"]}})
    assert old.status_code == 200 and old.get_json()["server_group"]["policies"] == ["affinity"]
    new = alice.post("/v2.1/os-server-groups", json={"server_group": {
        "name": "g2", "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}})
    group = new.get_json()["server_group"]
    assert group["policy"] == "anti-affinity" and group["rules"] == {"max_server_per_host": 2}
    assert alice.post("/v2.1/os-server-groups", json={"server_group": {
        "name": "g3", "policies": ["affinity"]}}).status_code == 400
    assert len(alice.get("/v2.1/os-server-groups").get_json()["server_groups"]) == 2
    assert bob.get(f"/v2.1/os-server-groups/{group['id']}").status_code == 404
    assert alice.delete(f"/v2.1/os-server-groups/{group['id']}").status_code == 204


def test_x509_keypair_is_generated_with_a_certificate(alice):
    response = alice.at("2.2").post("/v2.1/os-keypairs", json={"keypair": {"name": "cert",
                                                                         "type": "x509"}})
    assert response.status_code == 201
    body = response.get_json()["keypair"]
    assert body["type"] == "x509" and "BEGIN CERTIFICATE" in body["public_key"]
    assert "PRIVATE KEY" in body["private_key"] and len(body["fingerprint"].split(":")) == 20


def test_access_ips_are_stored_canonical_and_checked(alice):
    server = alice.boot(accessIPv6="0000:0000:0000:0000:0000:babe:220.12.22.2",
                        accessIPv4="1.1.1.1")
    shown = alice.show(server["id"])
    assert shown["accessIPv6"] == "::babe:dc0c:1602" and shown["accessIPv4"] == "1.1.1.1"
    assert alice.put(f"/v2.1/servers/{server['id']}", json={"server": {
        "accessIPv6": "1.2.3.4"}}).status_code == 400


def test_update_and_rebuild_answers_are_brief_before_2_75(alice):
    server = alice.boot()
    place(server["id"])
    old = alice.at("2.74").put(f"/v2.1/servers/{server['id']}", json={"server": {"name": "n"}})
    assert "OS-EXT-STS:vm_state" not in old.get_json()["server"]
    new = alice.put(f"/v2.1/servers/{server['id']}", json={"server": {"name": "n"}})
    assert new.get_json()["server"]["OS-EXT-STS:vm_state"] == "active"
    rebuilt = alice.at("2.1").action(server["id"], {"rebuild": {"imageRef": IMAGE}})
    assert "key_name" not in rebuilt.get_json()["server"]


def test_simple_tenant_usage(alice, admin):
    alice.boot()
    period = "start=2000-01-01T00:00:00&end=2999-01-01T00:00:00"
    mine = alice.get(f"/v2.1/os-simple-tenant-usage/p-alice?{period}").get_json()["tenant_usage"]
    assert mine["tenant_id"] == "p-alice" and len(mine["server_usages"]) == 1
    assert alice.get(f"/v2.1/os-simple-tenant-usage?{period}").status_code == 403
    everyone = admin.get(f"/v2.1/os-simple-tenant-usage?{period}").get_json()["tenant_usages"]
    assert [u["tenant_id"] for u in everyone] == ["p-alice"]
    assert "server_usages" not in everyone[0]


def test_quota_class_default_changes_every_projects_defaults(alice, admin):
    assert alice.get("/v2.1/os-quota-class-sets/default").status_code == 403
    shown = admin.get("/v2.1/os-quota-class-sets/default").get_json()["quota_class_set"]
    assert shown["id"] == "default" and shown["instances"] == 10
    assert "server_groups" in shown and "floating_ips" not in shown
    assert "floating_ips" in admin.at("2.49").get("/v2.1/os-quota-class-sets/default") \
        .get_json()["quota_class_set"]
    old = admin.at("2.1").put("/v2.1/os-quota-class-sets/default",
                              json={"quota_class_set": {"floating_ips": 110}})
    assert old.get_json()["quota_class_set"]["floating_ips"] == 110
    updated = admin.put("/v2.1/os-quota-class-sets/default",
                        json={"quota_class_set": {"instances": 7}})
    assert updated.get_json()["quota_class_set"]["instances"] == 7
    assert alice.get("/v2.1/os-quota-sets/p-alice").get_json()["quota_set"]["instances"] == 7


def test_extensions_and_v2_version_document(alice, app):
    aliases = [e["alias"] for e in alice.get("/v2.1/extensions").get_json()["extensions"]]
    assert "os-consoles" in aliases
    assert alice.get("/v2.1/extensions/os-consoles").get_json()["extension"]["alias"] == \
        "os-consoles"
    assert alice.get("/v2.1/extensions/nope").status_code == 404
    assert app.test_client().get("/v2/").get_json()["version"]["id"] == "v2.0"


def test_restore_and_force_delete_are_409_without_soft_delete(alice):
    server = alice.boot()
    place(server["id"])
    assert alice.action(server["id"], {"restore": None}).status_code == 409
    assert alice.action(server["id"], {"forceDelete": None}).status_code == 409


def test_server_external_events_are_acknowledged(alice, admin):
    server = alice.boot()
    body = {"events": [{"name": "network-changed", "server_uuid": server["id"]}]}
    assert admin.post("/v2.1/os-server-external-events", json=body).status_code == 404
    place(server["id"])
    assert alice.post("/v2.1/os-server-external-events", json=body).status_code == 403
    answer = admin.post("/v2.1/os-server-external-events", json=body)
    assert answer.status_code == 200 and answer.get_json()["events"][0]["code"] == 200
    body["events"].append({"name": "network-changed", "server_uuid": "nope"})
    assert admin.post("/v2.1/os-server-external-events", json=body).status_code == 207


def test_legacy_os_hosts_before_2_43(alice, admin):
    _report_host("host1")
    old = admin.at("2.42")
    hosts = old.get("/v2.1/os-hosts").get_json()["hosts"]
    assert {"host_name": "host1", "service": "compute", "zone": "nova"} in hosts
    assert old.get("/v2.1/os-hosts?zone=elsewhere").get_json()["hosts"] == []
    detail = old.get("/v2.1/os-hosts/host1").get_json()["host"]
    assert detail[0]["resource"]["project"] == "(total)" and detail[0]["resource"]["cpu"] == 4
    assert old.get("/v2.1/os-hosts/nope").status_code == 404
    assert old.put("/v2.1/os-hosts/host1", json={"status": "disable"}).get_json() == {
        "host": "host1", "status": "disabled"}
    assert old.put("/v2.1/os-hosts/host1", json={"status": "bogus"}).status_code == 400
    assert old.get("/v2.1/os-hosts/host1/reboot").status_code == 501
    assert alice.at("2.42").get("/v2.1/os-hosts").status_code == 403
    assert admin.get("/v2.1/os-hosts").status_code == 404


def test_instance_usage_audit_log_is_admin_only(alice, admin):
    _report_host("host1")
    latest = admin.get("/v2.1/os-instance_usage_audit_log").get_json()["instance_usage_audit_logs"]
    assert latest["hosts_not_run"] == ["host1"] and latest["num_hosts"] == 1
    shown = admin.get("/v2.1/os-instance_usage_audit_log/2024-03-15%2010:00:00").get_json()
    assert shown["instance_usage_audit_log"]["period_beginning"] == "2024-02-01 00:00:00"
    assert admin.get("/v2.1/os-instance_usage_audit_log/yesterday").status_code == 400
    assert alice.get("/v2.1/os-instance_usage_audit_log").status_code == 403
