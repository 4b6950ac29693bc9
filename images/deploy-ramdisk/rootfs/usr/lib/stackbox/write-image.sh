#!/bin/sh
# write-image.sh URL ALGORITHM CHECKSUM TARGET: stream a raw image from URL onto TARGET (a disk,
# or a file), then check the checksum (md5, sha256 or sha512) of what TARGET now holds. Prints
# the bytes written; on failure prints why on stderr and exits 1.
url=$1 algorithm=$2 expected=$3 target=$4

fail() {
    reason=$(printf '%s' "$*" | tr '\n\t' '  ')
    echo "$reason" >&2
    exit 1
}

case $algorithm in
    md5|sha256|sha512) ;;
    *) fail "unsupported checksum_algo '$algorithm': use md5, sha256 or sha512" ;;
esac
[ -n "$expected" ] || fail "no checksum given for $url"
[ -b "$target" ] || [ -f "$target" ] || fail "no disk $target to write the image to"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# -S: the answer's headers, for its Content-Length.
{ wget -S -q -O - "$url" 2> "$work/download"; echo $? > "$work/download.status"; } \
    | dd of="$target" bs=4M iflag=fullblock conv=notrunc,fsync 2> "$work/write"
written=$?
[ "$(cat "$work/download.status")" = 0 ] \
    || fail "downloading $url failed: $(sed -n 's/^wget: //p' "$work/download")"
[ $written = 0 ] || fail "writing $target failed: $(grep -v 'records' "$work/write")"
bytes=$(sed -n 's/^ *content-length: *\([0-9]*\).*/\1/ip' "$work/download" | tail -n 1)
[ -n "$bytes" ] || fail "the server of $url sent no Content-Length"
# Hashing what the disk holds also proves the write; under emulation it beats teeing the
# download into the hash, as busybox's tee copies 8 KiB at a time.
read -r actual _ <<HASH
$(dd if="$target" bs=4M count="$bytes" iflag=count_bytes 2>/dev/null | "${algorithm}sum")
HASH
expected=$(echo "$expected" | tr 'A-F' 'a-f')
[ "$actual" = "$expected" ] \
    || fail "checksum mismatch for $url: its $algorithm is $actual, expected $expected"
echo "$bytes"
