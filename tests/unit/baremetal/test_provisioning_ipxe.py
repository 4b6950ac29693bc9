"""The iPXE scripts per boot mode: the ramdisk with exactly the arguments it reads, or the
local disk."""
from undercloud.baremetal.drivers import ipxe

BASE = "http://192.168.24.1:8088"
NODE = "1be26c0b-03f2-4d2e-ae87-c02d7f33c781"
MAC = "52:54:00:12:34:56"


def kernel_line(script: str) -> list[str]:
    return next(line for line in script.splitlines() if line.startswith("kernel ")).split()


def test_the_ramdisk_modes_boot_the_ramdisk_with_the_agent_arguments():
    for mode in ("inspect", "deploy", "clean"):
        script = ipxe.script(BASE, mode, NODE, MAC)
        assert script.startswith("#!ipxe\n")
        assert kernel_line(script) == [
            "kernel", f"{BASE}/ramdisk/vmlinuz", f"ipa-api-url={BASE}", f"ipa-mode={mode}",
            f"ipa-node={NODE}", f"BOOTIF={MAC}", "console=tty0", "console=ttyS0,115200n8",
            "initrd=initrd.img", "||", "goto", "failed"]
        assert f"initrd {BASE}/ramdisk/initrd.img || goto failed\n" in script
        assert "boot || goto failed\n" in script


def test_a_failed_fetch_retries_rather_than_falling_through_to_the_disk():
    script = ipxe.script(BASE, "deploy", NODE, MAC)
    assert script.index(":retry") < script.index("kernel ")
    assert script.rstrip().endswith("goto retry")
    assert "sanboot" not in script and "exit" not in script


def test_disk_mode_leaves_ipxe_for_the_first_local_disk():
    script = ipxe.script(BASE, "disk", NODE, MAC)
    assert "sanboot --no-describe --drive 0x80" in script
    assert script.rstrip().endswith("exit")       # UEFI, or a BIOS whose sanboot failed
    assert "kernel" not in script and "ipa-" not in script


def test_unknown_macs_inspect_without_a_node_and_with_the_booting_mac():
    line = kernel_line(ipxe.default_script(BASE))
    assert "ipa-mode=inspect" in line and "BOOTIF=${mac}" in line
    assert not [word for word in line if word.startswith("ipa-node")]


def test_script_names_are_the_mac_with_dashes():
    assert ipxe.script_name(MAC) == "52-54-00-12-34-56.ipxe"
