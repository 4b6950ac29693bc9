#!/bin/sh
# Usage: grow-partition.sh DISK NUMBER DISK_SECTORS
# Grows MBR partition NUMBER (1-4) of DISK (a device or an image file) up to the start of the
# next partition, or to the disk's end, by rewriting its MBR entry's size; its file system grows
# later (systemd-growfs). Exits 0 when it grew, 1 when not; says which on stdout.
disk=$1 number=$2 disk_sectors=$3
MBR_MAX=4294967295  # an MBR entry's size field is 32 bits

say() { echo "stackbox-node: $*"; }

# The unsigned little-endian integer of $2 bytes at offset $1 of the disk.
field() { od -A n -t "u$2" -j "$1" -N "$2" "$disk" | tr -d ' '; }

entry() { echo $((446 + 16 * ($1 - 1))); }

# printf octal escapes of the 4 little-endian bytes of $1.
le32() {
    escapes=
    for shift in 0 8 16 24; do
        escapes="$escapes$(printf '\\%03o' $((($1 >> shift) & 255)))"
    done
    printf "$escapes"
}

[ "$(field 510 2)" = 43605 ] || { say "root partition not grown: $disk has no MBR"; exit 1; }
for slot in 1 2 3 4; do
    if [ "$(field $(($(entry $slot) + 4)) 1)" = 238 ]; then
        say "root partition not grown: GPT disks are not supported"
        exit 1
    fi
done
case $number in
    1|2|3|4) ;;
    *) say "root partition not grown: partition $number is not a primary one"; exit 1 ;;
esac
start=$(field $(($(entry "$number") + 8)) 4)
size=$(field $(($(entry "$number") + 12)) 4)
end=$disk_sectors
for slot in 1 2 3 4; do
    [ "$(field $(($(entry $slot) + 4)) 1)" = 0 ] && continue
    other=$(field $(($(entry $slot) + 8)) 4)
    [ "$other" -gt "$start" ] && [ "$other" -lt "$end" ] && end=$other
done
grown=$((end - start))
[ $grown -gt $MBR_MAX ] && grown=$MBR_MAX
if [ $grown -le "$size" ]; then
    say "root partition has $size sectors, no free space after it"
    exit 1
fi
le32 $grown | dd of="$disk" bs=1 seek=$(($(entry "$number") + 12)) count=4 conv=notrunc \
    2>/dev/null || { say "root partition not grown: cannot write $disk"; exit 1; }
sync
say "root partition grown to $grown sectors"
