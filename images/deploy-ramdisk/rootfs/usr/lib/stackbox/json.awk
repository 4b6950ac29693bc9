# Write one JSON object from flat "path<TAB>type<TAB>value" lines (jsonflat.awk's inverse).
# Paths join object keys with dots and a numeric part is an array index; the lines of one
# object or array come together. Types: str, num, bool, null, and [] or {} (empty ones).
BEGIN {
    FS = "\t"
    for (c = 1; c < 32; c++) escaped[sprintf("%c", c)] = sprintf("\\u%04x", c)
    escaped["\t"] = "\\t"; escaped["\r"] = "\\r"; escaped["\b"] = "\\b"; escaped["\f"] = "\\f"
    escaped["\""] = "\\\""; escaped["\\"] = "\\\\"
    depth = 0; closer[0] = "}"; count[0] = 0
    printf "{"
}

{
    value = substr($0, length($1) + length($2) + 3)
    parts = split($1, part, ".")
    keep = 0
    while (keep < depth && keep < parts - 1 && part[keep + 1] == opened[keep + 1]) keep++
    while (depth > keep) close_one()
    for (d = depth + 1; d < parts; d++) {
        member(part[d])
        closer[d] = (part[d + 1] ~ /^[0-9]+$/) ? "]" : "}"
        printf "%s", (closer[d] == "]") ? "[" : "{"
        opened[d] = part[d]; count[d] = 0; depth = d
    }
    member(part[parts])
    printf "%s", scalar($2, value)
}

END {
    while (depth > 0) close_one()
    print "}"
}

function close_one() {
    printf "%s", closer[depth]
    depth--
}

function member(key) {
    if (count[depth]++) printf ","
    if (closer[depth] == "}") printf "%s:", quote(key)
}

function scalar(type, text) {
    if (type == "str") return quote(text)
    if (type == "num") return (text ~ /^-?[0-9]+(\.[0-9]+)?$/) ? text : "null"
    if (type == "bool") return (text == "true" || text == "1") ? "true" : "false"
    if (type == "[]" || type == "{}") return type
    return "null"
}

function quote(text,    out, k, c) {
    out = ""
    for (k = 1; k <= length(text); k++) {
        c = substr(text, k, 1)
        out = out ((c in escaped) ? escaped[c] : c)
    }
    return "\"" out "\""
}
