# From a flattened network_data.json (jsonflat.awk), print "address netmask gateway" of the first
# static IPv4 network on the link whose MAC is `mac` (awk -v mac=...); exit 1 when there is none.
BEGIN { FS = "\t" }
{ v[$1] = $2 }

END {
    for (l = 0; ("links." l ".id") in v; l++)
        if (tolower(v["links." l ".ethernet_mac_address"]) == tolower(mac))
            link = v["links." l ".id"]
    if (link == "") exit 1
    for (k = 0; ("networks." k ".link") in v; k++) {
        p = "networks." k "."
        if (v[p "link"] != link || v[p "type"] != "ipv4") continue
        gateway = ""
        for (r = 0; (p "routes." r ".network") in v; r++)
            if (v[p "routes." r ".network"] == "0.0.0.0") gateway = v[p "routes." r ".gateway"]
        print v[p "ip_address"], v[p "netmask"], gateway
        exit 0
    }
    exit 1
}
