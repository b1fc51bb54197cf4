#!/usr/bin/env bash
# Two runs, one folder: a run folder is held for the run's life; a second
# run into it exits 2 naming the first's pid and changes nothing, and the
# hold ends with the process, however it ends (kill -9 included), so the
# folder's run can be resumed at once.
set -uo pipefail
source "$TEST_SRCDIR/$TEST_WORKSPACE/contract/contract_lib.sh" "$@"

work=$(fresh_workdir)
copy_fixtures "$work"
run_dir="$work/run"
# Long enough to be caught running while the refusals below start their
# own ranks: 40 epochs of 2 steps, a checkpoint every step (3 epochs had
# ended before the kill on a loaded machine).
"$train" --config="$config" --manifest="$m" --normalization="$n" \
  --output_dir="$run_dir" --set=debug.subset_images=256,schedule.epochs=40 \
  --checkpoint_every_steps=1 >"$work/first.log" 2>&1 &
first=$!

wait_for() {  # wait_for FILE: up to 120 s, while the first run lives
  local i
  for i in $(seq 1 1200); do
    [[ -e "$1" ]] && return 0
    kill -0 "$first" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
if ! wait_for "$run_dir/.run.lock"; then
  fail "the first training holds no lock in $run_dir: $(tail -3 "$work/first.log")"
else
  # A training of threads 0 on several cores runs as ranks it starts
  # itself; rank 0 holds the folder.
  holder=$(cat "$run_dir/.run.lock")
  [[ $holder == "$first" || $(ps -o ppid= -p "$holder" | tr -d ' ') == "$first" ]] ||
    fail "the lock file holds '$holder', neither pid $first nor a rank of it"
  # The second run creates nothing (checked in a quiet folder: the first
  # run keeps writing its own).
  quiet=$(fresh_workdir)
  refuses 2 "output_dir=.*run is in use by process $holder .*two runs must not write one folder" \
    "$quiet" -- "$train" --config="$config" --manifest="$m" \
    --normalization="$n" --output_dir="$run_dir" "${tiny[@]}"
  refuses 2 "output_dir=.*run is in use by process $holder" \
    "$quiet" -- "$train" --config="$config" --manifest="$m" \
    --normalization="$n" --output_dir="$run_dir" --resume "${tiny[@]}"

  # kill -9 once a checkpoint is there: the hold ends with the process.
  wait_for "$run_dir/checkpoint.pt" ||
    fail "no checkpoint written: $(tail -3 "$work/first.log")"
  kill -9 "$first"
  wait "$first" 2>/dev/null
  # Its ranks stop with it (SIGTERM from the kernel when their launcher dies).
  for _ in $(seq 1 100); do kill -0 "$holder" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$holder" 2>/dev/null && fail "rank $holder outlived its killed launcher"
  [[ -e "$run_dir/.run.lock" ]] || fail "kill -9 cannot remove the lock file"
  # The killed run's folder holds its files: refused without --resume ...
  refuses 2 "output_dir=.*run holds files of an earlier run" \
    "$run_dir" -- "$train" --config="$config" --manifest="$m" \
    --normalization="$n" --output_dir="$run_dir" \
    --set=debug.subset_images=256,schedule.epochs=40 --checkpoint_every_steps=1
  # ... and resumed with it, to the end, the stale lock taken over.
  succeeds "$train" --config="$config" --manifest="$m" --normalization="$n" \
    --output_dir="$run_dir" --set=debug.subset_images=256,schedule.epochs=40 \
    --checkpoint_every_steps=1 --resume
  [[ -s "$run_dir/training_run.pb" ]] || fail "the resumed run wrote no record"
  [[ ! -e "$run_dir/.run.lock" ]] || fail "the lock file outlived its run"
fi

# Evaluation and import folders are held the same way (here by a shell
# that holds the lock file as a run does, its pid written in it).
held=$(fresh_workdir)
mkdir -p "$held/eval" "$held/import"
make_image_folder "$held/images"
holders=()
for dir in eval import; do
  lock="$held/$dir/.run.lock"
  (echo "$BASHPID" >"$lock"; exec 9<"$lock"; flock -x 9; exec sleep 60) &
  holders+=($!)
  while flock -n "$lock" true; do sleep 0.1; done
done
refuses 2 "--out_dir=.*eval is in use by process [0-9]+" "$held" -- \
  "$evaluate" --model="$model" --manifest="$m" --normalization="$n" \
  --out_dir="$held/eval" "${quick[@]}"
refuses 2 "--out_dir=.*import is in use by process [0-9]+" "$held" -- \
  "$import" --from="$held/images" --out_dir="$held/import" --side=8 --channels=1
kill "${holders[@]}" 2>/dev/null
finish
