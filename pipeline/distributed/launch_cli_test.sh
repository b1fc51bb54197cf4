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
succeeds "$launch" --nproc_per_node=2 -- /bin/true
"$launch" --nproc_per_node=2 -- /bin/sh -c 'exit 7' >/dev/null 2>&1
status=$?
[[ $status == 7 ]] || fail "a rank exiting 7 made the launcher exit $status"
finish
