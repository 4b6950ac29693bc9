# Flatten a JSON document into "path<TAB>value" lines, one per scalar, so busybox sh can grep it.
# Paths join object keys and array indexes with dots (public_keys.mykey, links.0.id). Newlines
# inside a value become spaces (trailing ones are dropped), as keys end with "\n".
{ text = text $0 "\n" }

END {
    n = length(text); i = 1
    value("")
}

function blank() {
    while (i <= n && index(" \t\r\n", substr(text, i, 1)) > 0) i++
}

function emit(path, v) {
    sub(/\n+$/, "", v)
    gsub(/\n/, " ", v)
    print path "\t" v
}

function string(    out, c, e, code) {
    i++
    out = ""
    while (i <= n) {
        c = substr(text, i, 1)
        if (c == "\"") { i++; return out }
        if (c == "\\") {
            e = substr(text, i + 1, 1); i += 2
            if (e == "n") out = out "\n"
            else if (e == "t") out = out "\t"
            else if (e == "r") out = out ""
            else if (e == "b" || e == "f") out = out ""
            else if (e == "u") {
                code = substr(text, i, 4); i += 4
                # Only ASCII is decoded; anything else becomes "?" (hostnames and keys are ASCII).
                out = out (code ~ /^00[0-7][0-9a-fA-F]$/ ? sprintf("%c", hex(code)) : "?")
            }
            else out = out e
            continue
        }
        out = out c; i++
    }
    return out
}

function hex(digits,    k, total) {
    total = 0
    for (k = 1; k <= length(digits); k++)
        total = total * 16 + index("0123456789abcdef", tolower(substr(digits, k, 1))) - 1
    return total
}

function join(path, key) {
    return path == "" ? key : path "." key
}

function value(path,    c, key, index_, scalar) {
    blank()
    c = substr(text, i, 1)
    if (c == "{") {
        i++; blank()
        if (substr(text, i, 1) == "}") { i++; return }
        while (i <= n) {
            blank(); key = string(); blank(); i++
            value(join(path, key))
            blank(); c = substr(text, i, 1); i++
            if (c != ",") return
        }
    } else if (c == "[") {
        i++; blank(); index_ = 0
        if (substr(text, i, 1) == "]") { i++; return }
        while (i <= n) {
            value(join(path, index_)); index_++
            blank(); c = substr(text, i, 1); i++
            if (c != ",") return
        }
    } else if (c == "\"") {
        emit(path, string())
    } else {
        scalar = ""
        while (i <= n && index(",}] \t\r\n", substr(text, i, 1)) == 0) {
            scalar = scalar substr(text, i, 1); i++
        }
        emit(path, scalar)
    }
}
