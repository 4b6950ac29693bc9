"""Security groups and rules through the API: defaults, CRUD, Neutron's conflicts and 404s."""
import uuid


def error(response) -> dict:
    return response.get_json()["NeutronError"]


def group(caller, name="web", **attributes) -> dict:
    response = caller.post("/v2.0/security-groups", json={"security_group": {
        "name": name, **attributes}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["security_group"]


def rule(caller, group_id, **attributes):
    return caller.post("/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": group_id, "direction": "ingress", **attributes}})


def test_listing_makes_the_projects_default_group(alice):
    groups = alice.get("/v2.0/security-groups").get_json()["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    rules = groups[0]["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"]) for r in rules) == [
        ("egress", "IPv4", None), ("egress", "IPv6", None),
        ("ingress", "IPv4", groups[0]["id"]), ("ingress", "IPv6", groups[0]["id"])]
    assert all(r["belongs_to_default_sg"] for r in rules)


def test_a_new_group_allows_egress_and_is_the_projects(alice, bob, changes):
    created = group(alice, description="front end")
    assert created["project_id"] == "p-alice" and created["stateful"] is True
    assert sorted(r["ethertype"] for r in created["security_group_rules"]
                  if r["direction"] == "egress") == ["IPv4", "IPv6"]
    assert bob.get(f"/v2.0/security-groups/{created['id']}").status_code == 404
    shown = alice.get(f"/v2.0/security-groups/{created['id']}").get_json()["security_group"]
    assert shown == created


def test_only_one_default_group(alice):
    response = alice.post("/v2.0/security-groups", json={"security_group": {"name": "default"}})
    assert response.status_code == 409
    assert error(response)["type"] == "SecurityGroupDefaultAlreadyExists"
    created = group(alice)
    renamed = alice.put(f"/v2.0/security-groups/{created['id']}",
                        json={"security_group": {"name": "default"}})
    assert renamed.status_code == 409


def test_the_default_group_stays(alice, admin):
    default = alice.get("/v2.0/security-groups").get_json()["security_groups"][0]
    response = alice.delete(f"/v2.0/security-groups/{default['id']}")
    assert response.status_code == 409
    assert error(response)["type"] == "SecurityGroupCannotRemoveDefault"
    renamed = alice.put(f"/v2.0/security-groups/{default['id']}",
                        json={"security_group": {"name": "other"}})
    assert error(renamed)["type"] == "SecurityGroupCannotUpdateDefault"
    assert admin.delete(f"/v2.0/security-groups/{default['id']}").status_code == 204


def test_update_and_delete(alice, changes):
    created = group(alice)
    updated = alice.put(f"/v2.0/security-groups/{created['id']}", json={
        "security_group": {"name": "db", "description": "databases"}}).get_json()
    assert updated["security_group"]["name"] == "db"
    assert updated["security_group"]["revision_number"] == created["revision_number"] + 1
    assert alice.delete(f"/v2.0/security-groups/{created['id']}").status_code == 204
    assert alice.get(f"/v2.0/security-groups/{created['id']}").status_code == 404
    missing = alice.delete(f"/v2.0/security-groups/{uuid.uuid4()}")
    assert missing.status_code == 404 and error(missing)["type"] == "SecurityGroupNotFound"
    assert changes  # agents were told


def test_a_group_in_use_by_a_port_stays(alice):
    created = group(alice)
    network = alice.network()
    alice.subnet(network)
    alice.port(network, security_groups=[created["id"]])
    response = alice.delete(f"/v2.0/security-groups/{created['id']}")
    assert response.status_code == 409 and error(response)["type"] == "SecurityGroupInUse"


def test_rule_create_show_list_delete(alice):
    created = group(alice)
    response = rule(alice, created["id"], protocol="tcp", port_range_min=22,
                    port_range_max=22, remote_ip_prefix="10.0.0.0/8")
    assert response.status_code == 201
    made = response.get_json()["security_group_rule"]
    assert (made["protocol"], made["port_range_min"], made["ethertype"]) == ("tcp", 22, "IPv4")
    shown = alice.get(f"/v2.0/security-group-rules/{made['id']}").get_json()
    assert shown["security_group_rule"] == made
    listed = alice.get(f"/v2.0/security-group-rules?security_group_id={created['id']}"
                       "&direction=ingress").get_json()["security_group_rules"]
    assert [r["id"] for r in listed] == [made["id"]]
    in_group = alice.get(f"/v2.0/security-groups/{created['id']}").get_json()
    assert made["id"] in [r["id"] for r in in_group["security_group"]["security_group_rules"]]
    assert alice.delete(f"/v2.0/security-group-rules/{made['id']}").status_code == 204
    gone = alice.get(f"/v2.0/security-group-rules/{made['id']}")
    assert gone.status_code == 404 and error(gone)["type"] == "SecurityGroupRuleNotFound"


def test_a_duplicate_rule_is_refused(alice):
    created = group(alice)
    first = rule(alice, created["id"], protocol="tcp", port_range_min=66, port_range_max=67)
    again = rule(alice, created["id"], protocol="6", port_range_min=66, port_range_max=67)
    assert again.status_code == 409
    assert error(again)["type"] == "SecurityGroupRuleExists"
    assert first.get_json()["security_group_rule"]["id"] in error(again)["message"]


def test_rules_name_groups_that_exist(alice, bob):
    created = group(alice)
    for remote in ("bad_group_id", str(uuid.uuid4())):
        response = rule(alice, created["id"], protocol="tcp", remote_group_id=remote)
        assert response.status_code == 404, remote
    response = rule(alice, str(uuid.uuid4()))
    assert response.status_code == 404 and error(response)["type"] == "SecurityGroupNotFound"
    assert rule(bob, created["id"]).status_code == 404


def test_a_remote_group_rule_and_its_removal_with_the_group(alice):
    web, db_group = group(alice, "web"), group(alice, "db")
    made = rule(alice, db_group["id"], protocol="tcp", port_range_min=5432,
                port_range_max=5432, remote_group_id=web["id"]).get_json()
    assert made["security_group_rule"]["remote_group_id"] == web["id"]
    alice.delete(f"/v2.0/security-groups/{web['id']}")
    assert alice.get(
        f"/v2.0/security-group-rules/{made['security_group_rule']['id']}").status_code == 404


def test_bad_rules_answer_400_with_neutrons_message(alice):
    created = group(alice)
    response = rule(alice, created["id"], protocol="tcp", port_range_min=80, port_range_max=79)
    assert response.status_code == 400
    assert "port_range_min must be <= port_range_max" in error(response)["message"]
    response = alice.post("/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": created["id"]}})
    assert response.status_code == 400 and "direction" in error(response)["message"]


def test_rule_quota(alice, admin):
    created = group(alice)
    # The default group holds 4 rules, the new one 2: room for one more.
    admin.put("/v2.0/quotas/p-alice", json={"quota": {"security_group_rule": 7}})
    assert rule(alice, created["id"], protocol="tcp").status_code == 201
    over = rule(alice, created["id"], protocol="udp")
    assert over.status_code == 409 and error(over)["type"] == "OverQuota"
