"""The bare-metal lab: VMs that stand in for servers, each behind its own IPMI BMC.

- machines.py: what a BMC drives (a machine's power and boot device); a libvirt domain now.
- bmc.py: the BMC emulator, one process per machine (pyghmi's IPMI server).
- bmcs.py: starting, finding and stopping those BMC processes.
- vms.py: the lab's libvirt domains and disks; bridge.py: the provisioning bridge.
- nodes_file.py: nodes.yaml / instackenv.json, written by the lab and read by `node import`.
- lab.py: `stackbox lab up/down/status`, with the lab's state in a JSON file in its folder.
- cloud.py and enroll.py: `stackbox node import/introspect` through the Ironic API.
"""
