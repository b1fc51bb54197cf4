# Shared by the stage command-line tests (*_cli_test.sh): runs a stage
# binary on bad input and checks the exit contract of common/startup.h.
#
#   source common/stage_cli_test_lib.sh
#   WORK=$(fresh_workdir)                 # a writable folder for the case
#   copy_of "$FIXTURE" "$WORK/store"       # fixtures are damaged in copies
#   refuses 2 'pattern' "$WORK" -- binary --flag=...
#   finish                                 # PASS, or exit 1 after listing
#
# `refuses CODE PATTERN DIR -- COMMAND...` passes when COMMAND exits with
# CODE, prints exactly one "error: " line on stderr, as its last line and
# matching the extended regex PATTERN, and leaves every file and folder
# under DIR as it was (names, types and contents; nothing added).

failures=0

fail() {
  echo "FAILED: $*"
  failures=$((failures + 1))
}

fresh_workdir() {
  mktemp -d "${TEST_TMPDIR:-/tmp}/case.XXXXXX"
}

# `copy_of SOURCE DEST`: a writable copy of a fixture, links followed, so
# that a case may damage it without touching Bazel's outputs.
copy_of() {
  cp -rL "$1" "$2" && chmod -R u+w "$2"
}

# `copy_model_of STORE NORMALIZATION TRAINING DEST`: copies of what a
# trained model is used with (manifest.pb, normalization.pb, best_model.pt)
# side by side in DEST.
copy_model_of() {
  copy_of "$1/manifest.pb" "$4/manifest.pb" &&
    copy_of "$2" "$4/normalization.pb" &&
    copy_of "$3/best_model.pt" "$4/best_model.pt"
}

# `make_image_folder DIR`: DIR/train/{a,b}/ with six random 8x8 grey PGM
# images each, the smallest folder //data:import takes.
make_image_folder() {
  local class i
  for class in a b; do
    mkdir -p "$1/train/$class"
    for i in 1 2 3 4 5 6; do
      { printf 'P5\n8 8\n255\n'; head -c 64 /dev/urandom; } \
        >"$1/train/$class/$class$i.pgm"
    done
  done
}

# Paths, types and content digests of everything under $1, sorted.
snapshot() {
  (cd "$1" && find . -printf '%y %p\n' | sort &&
    find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

refuses() {
  local code="$1" pattern="$2" dir="$3"
  shift 4
  local before after err status
  before=$(snapshot "$dir")
  err=$(mktemp "${TEST_TMPDIR:-/tmp}/stderr.XXXXXX")
  "$@" >/dev/null 2>"$err"
  status=$?
  local what="${*:2}"
  if [[ $status != "$code" ]]; then
    fail "$what: exit $status, expected $code; stderr: $(tail -3 "$err")"
  elif [[ $(grep -c '^error: ' "$err") != 1 ]]; then
    fail "$what: expected one 'error: ' line, got: $(cat "$err")"
  elif ! tail -1 "$err" | grep -Eq "^error: .*${pattern}"; then
    fail "$what: last line does not match '$pattern': $(tail -1 "$err")"
  fi
  after=$(snapshot "$dir")
  if [[ "$before" != "$after" ]]; then
    fail "$what: changed $dir: $(diff <(echo "$before") <(echo "$after") | head -5)"
  fi
  rm -f "$err"
}

# `succeeds COMMAND...`: exit 0 (a control case for the refusals).
succeeds() {
  local out status
  out=$("$@" 2>&1)
  status=$?
  [[ $status == 0 ]] || fail "$*: exit $status: $(tail -3 <<<"$out")"
}

finish() {
  if [[ $failures != 0 ]]; then
    echo "$failures case(s) failed"
    exit 1
  fi
  echo PASS
}
