#!/usr/bin/env bash
# //eval:gate end to end: exit 0 + summary, exit 1 + one line per failed
# metric, exit 2 naming the file and field of a bad thresholds file.
set -uo pipefail
gate="$1"
shipped="$2"
dir="${TEST_TMPDIR:-$(mktemp -d)}"
fail() { echo "FAILED: $*"; exit 1; }

cat > "$dir/report.textproto" <<'END'
split: "test"
num_images: 10000
top1_accuracy: 0.91
per_class { name: "Shirt" recall: 0.55 }
per_class { name: "Bag" recall: 0.97 }
END
printf 'min_top1_accuracy: 0.9\n' > "$dir/pass.textproto"
printf 'min_top1_accuracy: 0.95\nmin_class_recall: 0.6\n' > "$dir/fail.textproto"
printf 'min_class_recall: 2\n' > "$dir/bad.textproto"

out=$("$gate" --report="$dir/report.textproto" --thresholds="$dir/pass.textproto" 2>&1)
[[ $? == 0 ]] || fail "pass case: $out"
grep -q "gate passed: 1 checks for .* (split test, 10000 images)" <<<"$out" || fail "no summary: $out"

# A report of another split or of fewer images fails a gate that asks.
printf 'min_top1_accuracy: 0.9\nsplit: "validation"\nmin_images: 20000\n' > "$dir/judged.textproto"
out=$("$gate" --report="$dir/report.textproto" --thresholds="$dir/judged.textproto" 2>&1)
[[ $? == 1 ]] || fail "judged case exit: $out"
grep -q '^FAIL split "test" != split "validation"' <<<"$out" || fail "$out"
grep -q '^FAIL num_images 10000 < min_images 20000' <<<"$out" || fail "$out"

# An empty file, or one that judged nothing, is no report: an error naming
# it, not a gate on zeros.
: > "$dir/empty.pb"
out=$("$gate" --report="$dir/empty.pb" --thresholds="$dir/pass.textproto" 2>&1)
[[ $? == 2 ]] || fail "empty report exit: $out"
grep -q "error: .*empty.pb: empty file, expected a binary vit_moe.eval.EvaluationReport" <<<"$out" || fail "$out"
printf 'top1_accuracy: 0.99\n' > "$dir/nothing.textproto"
out=$("$gate" --report="$dir/nothing.textproto" --thresholds="$dir/pass.textproto" 2>&1)
[[ $? == 2 ]] || fail "report of nothing exit: $out"
grep -q "error: .*nothing.textproto: not an evaluation report" <<<"$out" || fail "$out"

out=$("$gate" --report="$dir/report.textproto" --thresholds="$dir/fail.textproto" 2>&1)
[[ $? == 1 ]] || fail "fail case exit: $out"
[[ $(grep -c '^FAIL ' <<<"$out") == 2 ]] || fail "expected 2 FAIL lines: $out"
grep -q "^FAIL top1_accuracy 0.9100 < min_top1_accuracy 0.9500" <<<"$out" || fail "$out"
grep -q "^FAIL class_recall\[Shirt\]" <<<"$out" || fail "$out"

out=$("$gate" --report="$dir/report.textproto" --thresholds="$dir/bad.textproto" 2>&1)
[[ $? == 2 ]] || fail "bad thresholds exit: $out"
grep -q "error: .*bad.textproto.*min_class_recall" <<<"$out" || fail "$out"

out=$("$gate" --report="$dir/missing.pb" --thresholds="$dir/pass.textproto" 2>&1)
[[ $? == 2 ]] || fail "missing report exit: $out"
# The shipped example thresholds parse and validate; this report lacks most
# of their metrics, so the gate fails (exit 1), not errs (exit 2).
out=$("$gate" --report="$dir/report.textproto" --thresholds="$shipped" 2>&1)
[[ $? == 1 ]] || fail "shipped thresholds: $out"
grep -q "^FAIL mean_corruption_accuracy is not in the report" <<<"$out" || fail "$out"
# --baseline: 10 images; the baseline got all right, this model 9 (image 8
# wrong): drop 0.1, one discordant image, McNemar p = 1/2.
cat > "$dir/new.textproto" <<'END'
split: "test"
num_images: 10
manifest_sha256: "m1"
top1_accuracy: 0.9
per_image { top1_correct: "\377\002" }
END
cat > "$dir/old.textproto" <<'END'
split: "test"
num_images: 10
manifest_sha256: "m1"
top1_accuracy: 1
per_image { top1_correct: "\377\003" }
END
sed 's/split: "test"/split: "validation"/' "$dir/old.textproto" > "$dir/old_validation.textproto"
sed 's/m1/m2/' "$dir/old.textproto" > "$dir/old_store.textproto"
printf 'baseline_max_drop: 0.05\nbaseline_significance: 0.6\n' > "$dir/paired.textproto"
printf 'baseline_max_drop: 0.05\nbaseline_significance: 0.05\n' > "$dir/paired_strict.textproto"
out=$("$gate" --report="$dir/new.textproto" --thresholds="$dir/paired.textproto" --baseline="$dir/old.textproto" 2>&1)
[[ $? == 1 ]] || fail "paired fail exit: $out"
grep -q "^FAIL baseline top1 drop 0.1000 (1.0000 -> 0.9000; 1 images only the baseline got right, 0 only this model; McNemar p 0.5) > baseline_max_drop 0.0500 and p < baseline_significance 0.6" <<<"$out" || fail "$out"
out=$("$gate" --report="$dir/new.textproto" --thresholds="$dir/paired_strict.textproto" --baseline="$dir/old.textproto" 2>&1)
[[ $? == 0 ]] || fail "paired pass exit: $out"
grep -q "^ok   baseline top1 drop 0.1000 .* but not p < baseline_significance 0.05" <<<"$out" || fail "$out"
# Not the same images, or no margin to judge by: exit 2, one line.
for other in old_validation old_store; do
  out=$("$gate" --report="$dir/new.textproto" --thresholds="$dir/paired.textproto" --baseline="$dir/$other.textproto" 2>&1)
  [[ $? == 2 ]] || fail "$other exit: $out"
  [[ $(grep -c '^error: ' <<<"$out") == 1 ]] || fail "$other: $out"
  grep -q "^error: --baseline=.*$other.textproto cannot be paired with .*new.textproto: it judged" <<<"$out" || fail "$out"
done
out=$("$gate" --report="$dir/new.textproto" --thresholds="$dir/pass.textproto" --baseline="$dir/old.textproto" 2>&1)
[[ $? == 2 ]] || fail "baseline without margin exit: $out"
grep -q "^error: --baseline needs baseline_max_drop and baseline_significance in" <<<"$out" || fail "$out"
out=$("$gate" --report="$dir/new.textproto" --thresholds="$dir/paired.textproto" 2>&1)
[[ $? == 1 ]] || fail "margin without baseline exit: $out"
grep -q "^FAIL baseline comparison is not run (no --baseline)" <<<"$out" || fail "$out"
echo PASS
