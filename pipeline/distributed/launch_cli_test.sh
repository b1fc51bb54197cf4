#!/usr/bin/env bash
# //pipeline/distributed:launch on bad input: exit 2 and one "error:" line;
# a failing rank's status is the launcher's.
set -uo pipefail
launch="$1"
source "$2"

work=$(fresh_workdir)
run() { refuses 2 "$1" "$work" -- "$launch" "${@:2}"; }
run "no command given"
run "nproc_per_node" --nproc_per_node=0 -- /bin/true
run "node_rank" --nnodes=2 --node_rank=2 -- /bin/true
run "cannot start|No such file" -- "$work/no_such_program"
run "not a port" --rdzv_port=70000 -- /bin/true
run "give every node the same port" --nnodes=2 --rdzv_port=0 -- /bin/true
succeeds "$launch" --nproc_per_node=2 -- /bin/true
# Port 0: both ranks are told the same free port, not 0.
"$launch" --nproc_per_node=2 --rdzv_port=0 -- /bin/sh -c \
    'echo "$MASTER_PORT" > "'"$work"'/port.$RANK"' >/dev/null 2>&1 ||
    fail "--rdzv_port=0 failed"
[[ -s $work/port.0 && $(cat "$work/port.0") != 0 ]] ||
    fail "rank 0 was not given a port: $(cat "$work/port.0" 2>&1)"
cmp -s "$work/port.0" "$work/port.1" || fail "the ranks were told different ports"
"$launch" --nproc_per_node=2 -- /bin/sh -c 'exit 7' >/dev/null 2>&1
status=$?
[[ $status == 7 ]] || fail "a rank exiting 7 made the launcher exit $status"
finish
