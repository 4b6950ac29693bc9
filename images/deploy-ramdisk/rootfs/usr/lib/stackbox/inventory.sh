#!/bin/sh
# Print this machine's inventory in IPA's format as json.awk's flat lines: CPUs, memory, disks,
# NICs, system vendor and boot mode. BOOTIF is the booting NIC's MAC; SYSFS and PROCFS point at
# other /sys and /proc trees (tests).
HERE=$(dirname "$0")
. "$HERE/lib.sh"
SYSFS=${SYSFS:-/sys}
PROCFS=${PROCFS:-/proc}
MIB=1048576

# A one-line sysfs attribute without surrounding blanks (models end in spaces); empty if absent.
attribute() {
    [ -r "$1" ] && sed -n '1s/^[[:space:]]*//; 1s/[[:space:]]*$//p' "$1" 2>/dev/null
}

# Installed RAM as dmidecode and lshw see it (what IPA sums): SMBIOS type 17 memory devices.
dimm_mb() {
    total=0
    for raw in "$SYSFS"/firmware/dmi/entries/17-*/raw; do
        [ -r "$raw" ] || continue
        set -- $(od -An -tu1 -j12 -N2 "$raw")
        size=$(($1 + $2 * 256))
        if [ "$size" -eq 0 ] || [ "$size" -eq 65535 ]; then
            continue  # an empty slot, or a size the firmware does not know
        elif [ "$size" -eq 32767 ]; then
            set -- $(od -An -tu1 -j28 -N4 "$raw")  # the extended size, in MiB
            size=$((($1 + $2 * 256 + $3 * 65536 + $4 * 16777216) & 2147483647))
        elif [ $((size & 32768)) -ne 0 ]; then
            size=$(((size & 32767) / 1024))  # given in KiB
        fi
        total=$((total + size))
    done
    [ "$total" -gt 0 ] && echo "$total"
}

# Without SMBIOS: the kernel's online memory blocks (128 MiB each on x86), which round the RAM
# up past what the firmware and kernel keep for themselves.
memory_block_mb() {
    block=$(attribute "$SYSFS/devices/system/memory/block_size_bytes")
    [ -n "$block" ] || return 1
    online=$(cat "$SYSFS"/devices/system/memory/memory*/online 2>/dev/null | grep -c '^1$')
    [ "$online" -gt 0 ] && echo $((online * 0x$block / MIB))
}

cpus() {
    field cpu.count num "$(grep -c '^processor' "$PROCFS/cpuinfo")"
    field cpu.architecture str "$(uname -m)"
    text cpu.model_name "$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' \
        "$PROCFS/cpuinfo" | head -n 1)"
}

memory() {
    total_kib=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB$/\1/p' "$PROCFS/meminfo")
    total=$((${total_kib:-0} * 1024))
    field memory.total num "$total"
    physical=$(dimm_mb) || physical=$(memory_block_mb) || physical=$(((total + MIB - 1) / MIB))
    field memory.physical_mb num "$physical"
}

disks() {
    index=0
    for disk in $("$HERE/disks.sh"); do
        path=$SYSFS/block/${disk#/dev/}
        serial=$(attribute "$path/device/serial")
        [ -n "$serial" ] || serial=$(attribute "$path/serial")  # virtio-blk keeps it here
        rotational=$(attribute "$path/queue/rotational")
        field disks.$index.name str "$disk"
        field disks.$index.size num $(($(attribute "$path/size") * 512))
        text disks.$index.model "$(attribute "$path/device/model")"
        text disks.$index.vendor "$(attribute "$path/device/vendor")"
        text disks.$index.serial "$serial"
        field disks.$index.rotational bool "${rotational:-0}"
        index=$((index + 1))
    done
    [ $index -gt 0 ] || field disks [] ""
}

interfaces() {
    index=0
    for path in "$SYSFS"/class/net/*; do
        [ -e "$path/device" ] || continue  # lo, bridges and other virtual devices
        name=${path##*/}
        address=$(ip -4 -o addr show dev "$name" 2>/dev/null \
            | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p' | head -n 1)
        field interfaces.$index.name str "$name"
        field interfaces.$index.mac_address str "$(attribute "$path/address")"
        text interfaces.$index.ipv4_address "$address"
        index=$((index + 1))
    done
    [ $index -gt 0 ] || field interfaces [] ""
}

system_vendor() {
    text system_vendor.manufacturer "$(attribute "$SYSFS/class/dmi/id/sys_vendor")"
    text system_vendor.product_name "$(attribute "$SYSFS/class/dmi/id/product_name")"
    text system_vendor.serial_number "$(attribute "$SYSFS/class/dmi/id/product_serial")"
}

boot() {
    if [ -d "$SYSFS/firmware/efi" ]; then mode=uefi; else mode=bios; fi
    field boot.current_boot_mode str $mode
    text boot.pxe_interface "$BOOTIF"
}

cpus
memory
disks
interfaces
system_vendor
boot
field bmc_address null ""
