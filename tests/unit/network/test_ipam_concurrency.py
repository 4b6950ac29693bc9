"""Concurrent port creates from several processes on one small subnet never share an address."""
import multiprocessing

from undercloud import db
from undercloud.common.errors import Conflict
from undercloud.network import ports
from undercloud.network.models import IPAllocation, Network, Subnet

WORKERS, CREATES = 4, 10


def _create_ports(config, network_id, results):
    db.connect(config)   # a fresh connection in this process
    network = Network.get_by_id(network_id)
    addresses, refused = [], 0
    for _ in range(CREATES):
        try:
            port = ports.create_port(network, "p-alice", security_group_ids=[])
            addresses.extend(ip["ip_address"] for ip in ports.port_fixed_ips(port))
        except Conflict as exc:
            assert exc.type == "IpAddressGenerationFailure", exc.message
            refused += 1
    results.put((addresses, refused))


def test_four_processes_fill_a_subnet_without_sharing_an_address(cfg):
    with db.transaction():
        network = Network.create(project_id="p-alice", name="race", segment_key="vxlan::9")
        Subnet.create(network=network, project_id="p-alice", cidr="10.9.0.0/27",
                      gateway_ip="10.9.0.1",
                      allocation_pools=[{"start": "10.9.0.2", "end": "10.9.0.30"}])
    db.database.close()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_create_ports, args=(cfg, network.id, results))
               for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    handed_out = [address for addresses, _ in outcomes for address in addresses]
    assert len(handed_out) == len(set(handed_out)) == 29   # the whole pool, each once
    assert sum(refused for _, refused in outcomes) == WORKERS * CREATES - 29
    stored = [row.ip_address for row in IPAllocation.select()]
    assert sorted(stored) == sorted(handed_out)
