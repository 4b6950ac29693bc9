#!/bin/sh
# Print the machine's disks, one /dev path a line in name order: block devices that hold data
# (no loop, RAM, CD-ROM, zram, floppy, device-mapper, md or nbd devices, none of size 0).
# SYSFS points at another /sys (tests).
for path in "${SYSFS:-/sys}"/block/*; do
    name=${path##*/}
    case $name in
        loop*|ram*|sr*|zram*|fd*|dm-*|md*|nbd*|'*') continue ;;
    esac
    sectors=$(cat "$path/size" 2>/dev/null)
    [ "${sectors:-0}" -gt 0 ] && echo "/dev/$name"
done
exit 0
