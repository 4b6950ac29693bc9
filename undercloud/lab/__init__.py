"""The lab: machines that stand in for servers, each behind its own IPMI BMC. Two kinds: VMs
(bare-metal nodes to PXE-boot) and systemd-nspawn hosts (the overcloud's deployed servers).

- machines.py: what a BMC drives (a machine's power and boot device): a libvirt domain or an
  nspawn container.
- bmc.py: the BMC emulator, one process per machine (pyghmi's IPMI server).
- bmcs.py: starting, finding and stopping those BMC processes.
- vms.py: the lab's libvirt domains and disks; bridge.py: the provisioning bridge.
- nspawn.py: one nspawn host (its root file system from the node image, start, stop, ssh).
- hosts.py: the nspawn lab's up/down/status and its deployed-servers.yaml inventory.
- nodes_file.py: nodes.yaml / instackenv.json, written by the lab and read by `node import`.
- lab.py: `stackbox lab up/down/status`, with the lab's state in a JSON file in its folder.
- cloud.py and enroll.py: `stackbox node import/introspect` through the Ironic API.
"""
