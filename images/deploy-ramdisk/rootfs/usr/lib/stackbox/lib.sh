# What the ramdisk's scripts share (sourced): console lines, flat JSON fields and lookups.
# One "stackbox-ramdisk: <step>" line on every console the kernel writes to, as tests and the
# bench read the serial one while /dev/console may be the screen (the last console= wins).
say() {
    for console in ${CONSOLES:-/dev/console}; do
        echo "stackbox-ramdisk: $*" > "$console"
    done
}

# A line of json.awk's input: path, type (str num bool null [] {}), value.
field() {
    printf '%s\t%s\t%s\n' "$1" "$2" "$3"
}

# A string field, or null when the value is unknown.
text() {
    if [ -n "$2" ]; then field "$1" str "$2"; else field "$1" null ""; fi
}

# The value at a path in a jsonflat.awk file; JSON null reads as empty.
value() {
    awk -F'\t' -v key="$1" '$1 == key { if ($2 != "null") print $2; exit }' "$2"
}
