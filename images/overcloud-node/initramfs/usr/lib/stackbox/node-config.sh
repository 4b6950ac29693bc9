#!/bin/sh
# Usage: node-config.sh ROOT STATE
# Writes what the config drive says (STATE/meta_data.json, STATE/network_data.json, either may
# be missing) into the node's root file system at ROOT: hostname, root's SSH keys and
# systemd-networkd's addresses (DHCP on every NIC without static ones). Once per instance, so a
# reboot keeps what the node's roles changed since. One "stackbox-node:" line per step.
ROOT=$1 STATE=$2
HERE=$(dirname "$0")
STAMP=$ROOT/var/lib/stackbox/instance
NETWORKD=$ROOT/etc/systemd/network

say() { echo "stackbox-node: $*"; }

# The value at a flattened JSON path (see jsonflat.awk) of $1 (meta_data or network_data).
value() { awk -F'\t' -v key="$2" '$1 == key { print $2; exit }' "$STATE/$1.flat"; }

prefix_length() {
    bits=0
    for octet in $(echo "$1" | tr . ' '); do
        case $octet in
            255) bits=$((bits + 8)) ;; 254) bits=$((bits + 7)) ;; 252) bits=$((bits + 6)) ;;
            248) bits=$((bits + 5)) ;; 240) bits=$((bits + 4)) ;; 224) bits=$((bits + 3)) ;;
            192) bits=$((bits + 2)) ;; 128) bits=$((bits + 1)) ;;
        esac
    done
    echo $bits
}

# network_data's services of type dns, in their order.
dns_servers() {
    awk -F'\t' '
        split($1, p, /\./) == 3 && p[1] == "services" && p[3] == "type" { type[p[2]] = $2 }
        split($1, p, /\./) == 3 && p[1] == "services" && p[3] == "address" { address[p[2]] = $2 }
        END { for (k = 0; k in type; k++) if (type[k] == "dns") print address[k] }
    ' "$STATE/network_data.flat"
}

set_hostname() {
    name=$(value meta_data hostname)
    [ -n "$name" ] || name=$(value meta_data name)
    [ -n "$name" ] || return 0
    echo "$name" > "$ROOT/etc/hostname"
    line="127.0.1.1 $name"
    [ "${name%%.*}" != "$name" ] && line="$line ${name%%.*}"
    [ -f "$ROOT/etc/hosts" ] || echo "127.0.0.1 localhost" > "$ROOT/etc/hosts"
    grep -v '^127\.0\.1\.1[[:space:]]' "$ROOT/etc/hosts" > "$STATE/hosts"
    echo "$line" >> "$STATE/hosts"
    cat "$STATE/hosts" > "$ROOT/etc/hosts"
    say "hostname $name"
}

install_ssh_keys() {
    mkdir -p "$ROOT/root/.ssh"
    chmod 700 "$ROOT/root/.ssh"
    grep '^public_keys\.' "$STATE/meta_data.flat" | cut -f 2- > "$ROOT/root/.ssh/authorized_keys"
    chmod 600 "$ROOT/root/.ssh/authorized_keys"
    say "ssh keys $(grep -c . "$ROOT/root/.ssh/authorized_keys")"
}

# One .network file per link of network_data with a static IPv4 network, matched by MAC.
static_networks() {
    [ -s "$STATE/network_data.flat" ] || return 1
    status=1
    for mac in $(awk -F'\t' '$1 ~ /^links\.[0-9]+\.ethernet_mac_address$/ { print $2 }' \
            "$STATE/network_data.flat"); do
        static=$(awk -v mac="$mac" -f "$HERE/static-ipv4.awk" "$STATE/network_data.flat") \
            || continue
        set -- $static
        prefix=$(prefix_length "$2")
        {
            # Type=ether: a bridge or VLAN made later on this NIC has its MAC but not this address.
            printf '[Match]\nMACAddress=%s\nType=ether\n\n[Network]\nAddress=%s/%s\n' \
                "$mac" "$1" "$prefix"
            [ -n "$3" ] && echo "Gateway=$3"
            for server in $(dns_servers); do echo "DNS=$server"; done
        } > "$NETWORKD/10-stackbox-$(echo "$mac" | tr -d : | tr A-F a-f).network"
        say "network $mac $1/$prefix static"
        status=0
    done
    return $status
}

dhcp_everywhere() {
    printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' > "$NETWORKD/10-stackbox.network"
    say "network dhcp on en* eth*"
}

for name in meta_data network_data; do
    rm -f "$STATE/$name.flat"
    [ -s "$STATE/$name.json" ] && awk -f "$HERE/jsonflat.awk" "$STATE/$name.json" \
        > "$STATE/$name.flat"
done
instance=
[ -s "$STATE/meta_data.flat" ] && instance=$(value meta_data uuid)
instance=${instance:-none}
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$instance" ]; then
    say "instance $instance already configured"
    exit 0
fi
say "instance $instance"
mkdir -p "$NETWORKD" "${STAMP%/*}"
rm -f "$NETWORKD"/10-stackbox*.network
if [ -s "$STATE/meta_data.flat" ]; then
    set_hostname
    install_ssh_keys
fi
static_networks || dhcp_everywhere
echo "$instance" > "$STAMP"
