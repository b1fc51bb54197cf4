#!/usr/bin/env bash
# //augment:preview end to end: a PNG from the built-in source, one-line
# errors with exit status 2 for bad input, and --help.
set -uo pipefail
preview="$1"
out="${TEST_TMPDIR}/grid.png"

fail() { echo "FAIL: $*" >&2; exit 1; }

"$preview" --out="$out" --count=3 --versions=2 --dataset=gtsrb > "${TEST_TMPDIR}/stdout" ||
  fail "preview exited with $?"
[[ "$(head -c 8 "$out" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] ||
  fail "$out is not a PNG"
grep -q 'horizontal_flip: false' "${TEST_TMPDIR}/stdout" || fail "GTSRB must not flip"

expect_user_error() {
  local pattern="$1"
  shift
  "$preview" --out="$out" "$@" 2> "${TEST_TMPDIR}/stderr"
  local status=$?
  [[ $status -eq 2 ]] || fail "$* exited with $status, expected 2"
  [[ $(wc -l < "${TEST_TMPDIR}/stderr") -eq 1 ]] || fail "$*: more than one line"
  grep -q "^error: .*${pattern}" "${TEST_TMPDIR}/stderr" || fail "$*: no '${pattern}'"
}
expect_user_error 'augment.preset' --policy=heavy
expect_user_error 'unknown "mnist"' --dataset=mnist
expect_user_error 'missing.pb' --manifest="${TEST_TMPDIR}/missing.pb"
expect_user_error 'count within' --count=65
expect_user_error 'scale within' --scale=0

"$preview" --help > "${TEST_TMPDIR}/help" 2>&1
grep -q -- '--policy' "${TEST_TMPDIR}/help" || fail "--help does not list --policy"
echo PASS
