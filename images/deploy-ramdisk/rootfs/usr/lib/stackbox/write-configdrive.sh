#!/bin/sh
# write-configdrive.sh URL SIZE TARGET: download a config drive (an ISO 9660 image of at most
# 64 MiB, SIZE bytes unless SIZE is empty) into tmpfs, then give it an MBR partition in the
# last 64 MiB of TARGET (a disk, or a file), 1 MiB aligned and after every partition the
# image made, and write it there. Prints "<bytes> <start sector>"; on failure prints why on
# stderr and exits 1.
url=$1 size=$2 target=$3
MAX_BYTES=67108864      # IPA's limit
PART_SECTORS=131072     # 64 MiB of 512-byte sectors
ALIGN=2048              # 1 MiB
MBR_LAST=4294967295     # MBR's sector numbers are 32 bits: the rest of a larger disk is out of reach

fail() {
    reason=$(printf '%s' "$*" | tr '\n\t' '  ')
    echo "config drive: $reason" >&2
    exit 1
}

# le32 N: N's 4 bytes, least significant first, as printf octal escapes.
le32() {
    n=$1
    for _ in 1 2 3 4; do
        printf '\\%03o' $((n % 256))
        n=$((n / 256))
    done
}

[ -b "$target" ] || [ -f "$target" ] || fail "no disk $target to write it to"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# head bounds what a wrong answer can take of the RAM.
{ wget -q -O - "$url" 2> "$work/download"; echo $? > "$work/download.status"; } \
    | head -c $((MAX_BYTES + 1)) > "$work/configdrive.iso"
bytes=$(stat -c %s "$work/configdrive.iso")
[ "$bytes" -le $MAX_BYTES ] || fail "$url is larger than the maximum of 64 MiB"
[ "$(cat "$work/download.status")" = 0 ] \
    || fail "downloading $url failed: $(sed -n 's/^wget: //p' "$work/download")"
[ -z "$size" ] || [ "$bytes" = "$size" ] \
    || fail "$url sent $bytes bytes, not the $size of the config drive"
[ "$(dd if="$work/configdrive.iso" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ] \
    || fail "$url is not an ISO 9660 image"

if [ -b "$target" ]; then
    sectors=$(blockdev --getsz "$target")
else
    sectors=$(($(stat -c %s "$target") / 512))
fi
# The MBR's 4 entries (16 bytes each) and its signature, from byte 446: "nombr", "gpt", or
# the first free entry (-1: none) and the sector where the last partition ends.
layout=$(od -v -A n -t u1 -j 446 -N 66 "$target" | awk '
    function le32(at) { return b[at] + b[at + 1] * 256 + b[at + 2] * 65536 + b[at + 3] * 16777216 }
    { for (i = 1; i <= NF; i++) b[n++] = $i }
    END {
        if (n != 66 || b[64] != 85 || b[65] != 170) { print "nombr"; exit }
        free = -1; last = 0
        for (entry = 0; entry < 4; entry++) {
            at = entry * 16
            if (b[at + 4] == 238) { print "gpt"; exit }
            if (b[at + 4] == 0) { if (free < 0) free = entry; continue }
            end = le32(at + 8) + le32(at + 12)
            if (end > last) last = end
        }
        printf "%d %d\n", free, last
    }')
case $layout in
    nombr) fail "$target has no MBR partition table (no 0x55AA at byte 510): only whole-disk" \
                "images with an MBR can take a config drive" ;;
    gpt) fail "GPT disks are not supported" ;;
esac
set -- $layout
slot=$1 last=$2
end=$sectors
[ "$end" -le $MBR_LAST ] || end=$MBR_LAST
start=$(((end - PART_SECTORS) / ALIGN * ALIGN))
[ $start -ge "$last" ] && [ $start -ge $ALIGN ] \
    || fail "the disk is too small: $target has $sectors sectors, its partitions end at sector" \
            "$last, and the config drive needs $PART_SECTORS sectors (64 MiB) after them from a" \
            "1 MiB boundary"
[ "$slot" -ge 0 ] || fail "$target uses MBR partitioning and already has 4 primary partitions"

dd if="$work/configdrive.iso" of="$target" bs=1M seek=$((start * 512)) oflag=seek_bytes \
    conv=notrunc,fsync 2> "$work/write" || fail "writing $target failed: $(cat "$work/write")"
# Type 0x83, not bootable, CHS fields 0xFE 0xFF 0xFF (beyond CHS) as modern tools write them.
printf "\\000\\376\\377\\377\\203\\376\\377\\377$(le32 $start)$(le32 $((end - start)))" \
    | dd of="$target" bs=1 seek=$((446 + slot * 16)) count=16 conv=notrunc,fsync 2> "$work/write" \
    || fail "writing $target's partition table failed: $(cat "$work/write")"
sync
[ -b "$target" ] && blockdev --rereadpt "$target" 2>/dev/null   # best effort: a reboot follows
echo "$bytes $start"
