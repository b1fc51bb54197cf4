#!/usr/bin/env bash
# //model:describe on bad input: exit 2 and one "error:" line naming the
# preset or field.
set -uo pipefail
describe="$1"
source "$2"

work=$(fresh_workdir)
run() { refuses 2 "$1" "$work" -- "$describe" "${@:2}"; }
run "preset" --preset=huge
run "num_classes" --num_classes=-1
run "image_size" --image_size=-5
run "unexpected argument 'seed'" seed
run "unknown flag --presett" --presett=seed
succeeds "$describe" --preset=seed --num_classes=43
finish
