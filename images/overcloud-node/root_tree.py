"""The overcloud node's root file system as its disk holds it: a copy of the debootstrap rootfs
with the kernel's modules (less the hardware servers lack) and an fstab naming the root by UUID.
Host tools: coreutils (cp -a keeps owners, modes and links), kmod (depmod)."""
import os
import shutil

from initramfs import module_name, modules_in_load_order, run

BLOCK = 4096
# Module folders under lib/modules/<release>/kernel left out; a kept module's dependencies stay.
LEFT_OUT = ("drivers/gpu", "drivers/media", "sound", "drivers/net/wireless", "net/wireless",
            "net/mac80211", "drivers/infiniband", "drivers/staging", "drivers/iio",
            "drivers/usb", "drivers/hid", "drivers/hwmon", "drivers/bluetooth", "net/bluetooth",
            "net/batman-adv", "drivers/isdn", "drivers/comedi")
# What depmod reads besides the modules themselves.
MODULE_INDEXES = ("modules.builtin", "modules.builtin.modinfo", "modules.order")


def fstab(root_uuid: str) -> str:
    # x-systemd.growfs: systemd grows the mounted root after /init grew its partition.
    return f"UUID={root_uuid} / ext4 defaults,x-systemd.growfs 0 1\n"


def kept_modules(modules_dir: str) -> list[str]:
    """Paths (relative to modules_dir) of the modules the node gets, sorted."""
    wanted = []
    for base, folders, names in os.walk(os.path.join(modules_dir, "kernel")):
        relative = os.path.relpath(base, os.path.join(modules_dir, "kernel"))
        folders[:] = [name for name in folders
                      if os.path.normpath(os.path.join(relative, name)) not in LEFT_OUT]
        wanted += [module_name(name) for name in names if name.endswith(".ko")]
    return sorted(os.path.relpath(path, modules_dir)
                  for _, path in modules_in_load_order(modules_dir, sorted(wanted)))


def stage(rootfs: str, staging: str, modules_dir: str, release: str, root_uuid: str) -> None:
    """staging: a copy of rootfs with lib/modules/<release> (depmod run) and etc/fstab."""
    run("cp", "-a", rootfs, staging)
    target = os.path.join(staging, "lib", "modules", release)
    for relative in [*kept_modules(modules_dir), *MODULE_INDEXES]:
        source = os.path.join(modules_dir, relative)
        if os.path.exists(source):
            os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
            shutil.copyfile(source, os.path.join(target, relative))
    run("depmod", "-b", staging, release)
    with open(os.path.join(staging, "etc", "fstab"), "w") as stream:
        stream.write(fstab(root_uuid))


def content_bytes(folder: str) -> int:
    """What the files under folder take on ext4: each file and folder rounded up to a block."""
    total, seen = 0, set()
    for base, folders, names in os.walk(folder):
        for name in folders + names:
            info = os.lstat(os.path.join(base, name))
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += -(-max(info.st_size, 1) // BLOCK) * BLOCK
    return total
