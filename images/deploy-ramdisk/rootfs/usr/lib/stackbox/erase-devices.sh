#!/bin/sh
# erase-devices.sh DISK...: wipe partition tables and filesystem signatures. On each disk and on
# each of its partitions, zero the first and last MiB (MBR, GPT and its backup, the superblocks
# of ext4, xfs, btrfs, swap, LVM, md, ISO 9660, ZFS labels, ...) and btrfs's superblock copies at
# 64 MiB and 256 GiB. SYSFS points at another /sys (tests, where a file stands in for a disk).
# Prints nothing; on failure prints why on stderr and exits 1.
SYSFS=${SYSFS:-/sys}
MIB=1048576

# zero DISK OFFSET LENGTH LIMIT: zero LENGTH bytes at OFFSET, clipped to [0, LIMIT).
zero() {
    length=$3
    [ $(($2 + length)) -le "$4" ] || length=$(($4 - $2))
    [ "$length" -gt 0 ] || return 0
    dd if=/dev/zero of="$1" bs=64k count="$length" seek="$2" iflag=count_bytes \
        oflag=seek_bytes conv=notrunc 2> "$work/dd" \
        || { echo "zeroing $1 at byte $2 failed: $(cat "$work/dd")" >&2; return 1; }
}

# wipe DISK START SIZE: the signature regions of the extent [START, START + SIZE) of DISK.
wipe() {
    end=$(($2 + $3))
    last=$((end - MIB))
    [ "$last" -ge "$2" ] || last=$2
    zero "$1" "$2" $MIB "$end" \
        && zero "$1" "$last" $MIB "$end" \
        && zero "$1" $(($2 + 64 * MIB)) 4096 "$end" \
        && zero "$1" $(($2 + 262144 * MIB)) 4096 "$end"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for disk in "$@"; do
    size=$(blockdev --getsize64 "$disk" 2>/dev/null) || size=$(stat -c %s "$disk") \
        || { echo "cannot read the size of $disk" >&2; exit 1; }
    name=${disk##*/}
    for partition in "$SYSFS/block/$name/$name"*; do
        [ -r "$partition/start" ] || continue
        wipe "$disk" $(($(cat "$partition/start") * 512)) $(($(cat "$partition/size") * 512)) \
            || exit 1
    done
    wipe "$disk" 0 "$size" || exit 1
    sync
    # So the kernel forgets the partitions it had read (a file has none).
    [ -b "$disk" ] && blockdev --rereadpt "$disk" 2>/dev/null
done
exit 0
