#!/usr/bin/env bash
# A LibTorch executable waits passively unless its environment chooses,
# and libgomp itself (OMP_DISPLAY_ENV prints the settings it read at load
# time) sees the policy: set any later, it would be ignored.
set -uo pipefail
probe=$1
failures=0
expect() {  # expect NAME PATTERN OUTPUT
  if ! grep -q -- "$2" <<<"$3"; then
    echo "FAIL $1: no \"$2\" in:"
    echo "$3"
    failures=$((failures + 1))
  fi
}

out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=TRUE "$probe" 2>&1)
expect "default, process" "^OMP_WAIT_POLICY=PASSIVE$" "$out"
expect "default, libgomp" "OMP_WAIT_POLICY = 'PASSIVE'" "$out"
expect "default, ran" "^sum=65536$" "$out"

out=$(env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=ACTIVE OMP_DISPLAY_ENV=TRUE \
  "$probe" 2>&1)
expect "user's ACTIVE, process" "^OMP_WAIT_POLICY=ACTIVE$" "$out"
expect "user's ACTIVE, libgomp" "OMP_WAIT_POLICY = 'ACTIVE'" "$out"

# A spin count of the user's own is a wait choice too: left alone.
out=$(env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000 "$probe" 2>&1)
expect "user's GOMP_SPINCOUNT" "^OMP_WAIT_POLICY=(unset)$" "$out"

# The re-executed program keeps its arguments and the rest of its
# environment, and its children inherit the policy.
out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT PROBE_MARK=kept "$probe" \
  "two words" --flag=1 2>&1)
expect "arguments kept" "^argument=two words$" "$out"
expect "arguments kept" "^argument=--flag=1$" "$out"
expect "child inherits" "^child OMP_WAIT_POLICY=PASSIVE PROBE_MARK=kept$" "$out"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
