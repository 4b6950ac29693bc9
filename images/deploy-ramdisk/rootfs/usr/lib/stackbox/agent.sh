#!/bin/sh
# The agent, run by /init with the kernel's IPA_API_URL, IPA_MODE, IPA_NODE and BOOTIF.
# inspect: post the inventory to continue_inspection, then power off. deploy and clean: look the
# node up by its MACs, then heartbeat and run the command each answer carries (write_image, with
# its config drive if any; erase_devices, reboot, power_off), reporting its result on the next
# heartbeat.
# It powers the machine off and wipes disks: never outside the ramdisk.
[ "$$" = 1 ] || { echo "agent.sh runs only as the ramdisk's /init" >&2; exit 1; }
HERE=/usr/lib/stackbox
WORK=/run/stackbox
. $HERE/lib.sh
AGENT_VERSION=1.0
HEARTBEAT_SECONDS=5
LOOKUP_TRIES=60      # 5 minutes, as IPA's lookup timeout
INSPECT_TRIES=12     # one minute of network trouble

# api PATH [BODY_FILE]: GET (POST with a body) on the Ironic API; the answer lands in
# $WORK/answer and $WORK/answer.flat, its HTTP status in $status (000: no answer).
api() {
    rm -f $WORK/answer $WORK/answer.flat
    # busybox wget crashes on -T, so timeout(1) bounds the request; the API itself may wait
    # up to a minute for the conductor.
    timeout 90 wget -S -q -O $WORK/answer ${2:+--post-file "$2"} \
        --header "Content-Type: application/json" --header "Accept: application/json" \
        --header "X-OpenStack-Ironic-API-Version: latest" "$IPA_API_URL$1" 2> $WORK/answer.log
    status=$(sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' $WORK/answer.log | tail -n 1)
    status=${status:-000}
    [ -s $WORK/answer ] && awk -f $HERE/jsonflat.awk $WORK/answer > $WORK/answer.flat
    case $status in 2??) return 0 ;; esac
    return 1
}

power() {
    say "$1"
    sync
    if [ "$1" = rebooting ]; then reboot -f; else poweroff -f; fi
    while :; do sleep 60; done
}

idle() {
    say "$*"
    while :; do sleep 3600; done
}

inspect() {
    { $HERE/inventory.sh | sed 's/^/inventory./'; } | awk -f $HERE/json.awk > $WORK/inventory.json
    tries=0
    until api /v1/continue_inspection $WORK/inventory.json; do
        case $status in
            4??) say "inventory rejected: HTTP $status"; power "powering off" ;;
        esac
        tries=$((tries + 1))
        if [ $tries -ge $INSPECT_TRIES ]; then
            say "no answer from $IPA_API_URL"
            power "powering off"
        fi
        sleep 5
    done
    say "inventory posted"
    say "node $(value uuid $WORK/answer.flat)"
    power "powering off"
}

lookup() {
    addresses=$(for path in /sys/class/net/*; do
        [ -e "$path/device" ] && cat "$path/address"
    done | paste -sd, -)
    tries=0
    until api "/v1/lookup?addresses=$addresses" && NODE=$(value node.uuid $WORK/answer.flat) \
            && [ -n "$NODE" ]; do
        tries=$((tries + 1))
        [ $tries -lt $LOOKUP_TRIES ] || idle "lookup failed (HTTP $status), giving up"
        sleep 5
    done
    TOKEN=$(value config.agent_token $WORK/answer.flat)
    [ -z "$IPA_NODE" ] || [ "$IPA_NODE" = "$NODE" ] \
        || say "lookup found node $NODE, not ipa-node $IPA_NODE"
    say "lookup $NODE"
}

# The heartbeat's body, with the last command's result if one is still unreported.
heartbeat_body() {
    {
        field agent_token str "$TOKEN"
        field agent_version str "$AGENT_VERSION"
        field callback_url str ""
        if [ -n "$RESULT_NAME" ]; then
            field command_result.name str "$RESULT_NAME"
            field command_result.status str "$RESULT_STATUS"
            text command_result.error "$RESULT_ERROR"
        else
            field command_result null ""
        fi
    } | awk -f $HERE/json.awk > $WORK/heartbeat.json
}

result() {
    RESULT_NAME=$1 RESULT_STATUS=$2 RESULT_ERROR=$3
    [ "$2" = SUCCEEDED ] || say "command $1 failed: $3"
}

target_disk() {
    disk=$(value command.params.target_disk $WORK/command.flat)
    [ -n "$disk" ] || disk=$($HERE/disks.sh | head -n 1)
    echo "$disk"
}

param() {
    value "command.params.$1" $WORK/command.flat
}

write_image() {
    algorithm=$(param checksum_algo)
    format=$(param disk_format)
    disk=$(target_disk)
    if [ -n "$format" ] && [ "$format" != raw ]; then
        result write_image FAILED "unsupported disk_format '$format': the ramdisk writes raw"
    elif [ -z "$disk" ]; then
        result write_image FAILED "no disk to write the image to"
    elif bytes=$($HERE/write-image.sh "$(param url)" "${algorithm:-md5}" "$(param checksum)" \
            "$disk" 2> $WORK/command.log); then
        say "image written $bytes bytes ${algorithm:-md5} ok"
        write_configdrive "$disk"
    else
        result write_image FAILED "$(cat $WORK/command.log)"
    fi
}

# After the image: its config drive, when the command carries one, in a partition of its own.
write_configdrive() {
    url=$(param configdrive_url)
    if [ -z "$url" ]; then
        result write_image SUCCEEDED ""
    elif written=$($HERE/write-configdrive.sh "$url" "$(param configdrive_size)" "$1" \
            2> $WORK/command.log); then
        set -- $written
        say "config drive written $1 bytes at sector $2"
        result write_image SUCCEEDED ""
    else
        result write_image FAILED "$(cat $WORK/command.log)"
    fi
}

erase_devices() {
    disks=$(echo $($HERE/disks.sh))
    if $HERE/erase-devices.sh $disks 2> $WORK/command.log; then
        say "erased ${disks:-nothing: no disks}"
        result erase_devices SUCCEEDED ""
    else
        result erase_devices FAILED "$(cat $WORK/command.log)"
    fi
}

run_command() {
    name=$(value command.name $WORK/command.flat)
    [ -n "$name" ] || return 1
    say "command $name"
    case $name in
        write_image) write_image ;;
        erase_devices) erase_devices ;;
        reboot) power rebooting ;;
        power_off) power "powering off" ;;
        *) result "$name" FAILED "unknown command '$name'" ;;
    esac
}

heartbeats() {
    while :; do
        heartbeat_body
        if api "/v1/heartbeat/$NODE" $WORK/heartbeat.json; then
            RESULT_NAME=""
            cp $WORK/answer.flat $WORK/command.flat 2>/dev/null || : > $WORK/command.flat
            run_command && continue  # report its result at once
        elif [ "$status" = 401 ]; then
            say "heartbeat refused: the agent token is not the node's"
        fi
        sleep $HEARTBEAT_SECONDS
    done
}

if [ "$IPA_MODE" = inspect ]; then
    inspect
else
    lookup
    heartbeats
fi
