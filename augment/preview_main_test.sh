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
expect_user_error 'missing.gz' --idx_images="${TEST_TMPDIR}/missing.gz"
expect_user_error 'count within' --count=65
# Two 2x2 images; asking for three overruns the file.
tiny="${TEST_TMPDIR}/tiny.idx"
printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x02abcdefgh' > "$tiny"
expect_user_error 'exceeds' --idx_images="$tiny" --count=3
"$preview" --idx_images="$tiny" --count=2 --out="$out" > /dev/null || fail "tiny IDX"

"$preview" --help > "${TEST_TMPDIR}/help" 2>&1
grep -q -- '--policy' "${TEST_TMPDIR}/help" || fail "--help does not list --policy"
echo PASS
