#!/usr/bin/env bash
# //eval:predict: on bad input exit 2, one "error:" line naming the file or
# flag, and no file written or changed; on good input the temperature of the
# model's evaluation report, abstention, JSON, folders and regions of
# interest, checked on real Fashion-MNIST test images.
set -uo pipefail
predict="$1"
store="$2"
normalization="$3"
training="$4"
source "$5"
evaluation="$6"

work=$(fresh_workdir)
copy_model_of "$store" "$normalization" "$training" "$work"
n="$work/normalization.pb"
model="$work/best_model.pt"
manifest="$work/manifest.pb"
report="$work/evaluation.pb"
copy_of "$evaluation/evaluation.pb" "$report"
{ printf 'P5\n28 28\n255\n'; head -c 784 /dev/urandom; } > "$work/shirt.pgm"
run() { refuses 2 "$1" "$work" -- "$predict" "${@:2}"; }

# The first 12 test images of the store as PGM files, and their labels.
mkdir "$work/test"
for i in $(seq 0 11); do
  { printf 'P5\n28 28\n255\n'
    dd if="$store/test_images.u8" bs=784 skip="$i" count=1 2>/dev/null; } \
    > "$work/test/$(printf '%02d' "$i").pgm"
done

run "at least one image" --model="$model" --normalization="$n"
run "required" --normalization="$n" "$work/shirt.pgm"
run "top_k" --model="$model" --normalization="$n" --top_k=0 "$work/shirt.pgm"
run "missing.png" --model="$model" --normalization="$n" "$work/missing.png"
# Images that are not, or lie about their size.
: > "$work/empty.png"
run "empty.png" --model="$model" --normalization="$n" "$work/empty.png"
echo "not an image" > "$work/text.png"
run "text.png" --model="$model" --normalization="$n" "$work/text.png"
printf 'P5\n100000 100000\n255\n' > "$work/huge.pgm"
run "huge.pgm" --model="$model" --normalization="$n" "$work/huge.pgm"
{ printf 'P5\n28 28\n255\n'; head -c 100 /dev/zero; } > "$work/short.pgm"
run "short.pgm" --model="$model" --normalization="$n" "$work/short.pgm"
# Artifacts that do not belong together or are not what they claim.
printf '\x0a\x18\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\xe0\x3f\x12\x18\x00\x00\x00\x00\x00\x00\xd0\x3f\x00\x00\x00\x00\x00\x00\xd0\x3f\x00\x00\x00\x00\x00\x00\xd0\x3f' > "$work/rgb.pb"
run "--normalization=.*rgb.pb does not belong with --model=.*: 3 mean\\(s\\) and 3 std\\(s\\) for 1-channel images" --model="$model" --normalization="$work/rgb.pb" "$work/shirt.pgm"
run "normalization.pb" --model="$n" --normalization="$n" "$work/shirt.pgm"
run "best_model.pt" --model="$model" --normalization="$n" --manifest="$model" "$work/shirt.pgm"
head -c 3000 "$model" > "$work/truncated.pt"
run "truncated.pt" --model="$work/truncated.pt" --normalization="$n" "$work/shirt.pgm"

# --format, --device.
run "--format=xml: expected text or json" --model="$model" --normalization="$n" --format=xml "$work/shirt.pgm"
run "--device=gpu: expected cpu, cuda or cuda:N" --model="$model" --normalization="$n" --device=gpu "$work/shirt.pgm"
if ! "$predict" --model="$model" --normalization="$n" --device=cuda "$work/shirt.pgm" >/dev/null 2>&1; then
  run "--device=cuda: this LibTorch build or machine has no CUDA" --model="$model" --normalization="$n" --device=cuda "$work/shirt.pgm"
fi

# --report: a report of another model, damaged or foreign files.
sha=$(sha256sum "$model" | cut -d' ' -f1)
printf 'split: "test"\nnum_images: 5\ntemperature: 2\ncheckpoint_sha256: "%s"\n' \
  "0000$sha" > "$work/other_model.textproto"
run "other_model.textproto evaluated the model file with SHA-256 0000$sha, not .*best_model.pt \\($sha\\)" \
  --model="$model" --normalization="$n" --report="$work/other_model.textproto" "$work/shirt.pgm"
run "missing.pb" --model="$model" --normalization="$n" --report="$work/missing.pb" "$work/shirt.pgm"
: > "$work/empty.pb"
run "empty.pb" --model="$model" --normalization="$n" --report="$work/empty.pb" "$work/shirt.pgm"
run "normalization.pb: not a valid binary vit_moe.eval.EvaluationReport" --model="$model" --normalization="$n" --report="$n" "$work/shirt.pgm"
printf 'split: "test"\nnum_images: 5\ntemperature: 0\ncheckpoint_sha256: "%s"\n' "$sha" > "$work/zero_t.textproto"
run "zero_t.textproto: temperature 0 is not a positive number" --model="$model" --normalization="$n" --report="$work/zero_t.textproto" "$work/shirt.pgm"

# --abstain_below: out of (0, 1), without --report, with a report that
# predates scaled_confidences.
for p in 0 1 1.5 -0.1 nan high; do
  run "--abstain_below=$p: expected a confidence strictly between 0 and 1" \
    --model="$model" --normalization="$n" --report="$report" --abstain_below="$p" "$work/shirt.pgm"
done
run "--abstain_below needs --report" --model="$model" --normalization="$n" --abstain_below=0.5 "$work/shirt.pgm"
printf 'split: "test"\nnum_images: 5\ntemperature: 2\ncheckpoint_sha256: "%s"\n' "$sha" > "$work/old.textproto"
run "old.textproto has no scaled_confidences \\(written by an older //eval:evaluate\\)" \
  --model="$model" --normalization="$n" --report="$work/old.textproto" --abstain_below=0.5 "$work/shirt.pgm"

# --alpha, --conformal_score, --max_risk, --delta.
for a in 0 1 1.5 nan x; do
  run "--alpha=$a: expected a number strictly between 0 and 1" \
    --model="$model" --normalization="$n" --report="$report" --alpha="$a" "$work/shirt.pgm"
done
run "--max_risk=0: expected a number strictly between 0 and 1" \
  --model="$model" --normalization="$n" --report="$report" --max_risk=0 "$work/shirt.pgm"
run "--delta=1: expected a number strictly between 0 and 1" \
  --model="$model" --normalization="$n" --report="$report" --max_risk=0.01 --delta=1 "$work/shirt.pgm"
run "unknown conformal score 'thr': expected lac, aps or raps" \
  --model="$model" --normalization="$n" --report="$report" --alpha=0.1 --conformal_score=thr "$work/shirt.pgm"
run "--max_risk and --alpha need --report" --model="$model" --normalization="$n" --alpha=0.1 "$work/shirt.pgm"
run "--max_risk and --alpha need --report" --model="$model" --normalization="$n" --max_risk=0.01 "$work/shirt.pgm"
run "--max_risk and --abstain_below exclude each other" \
  --model="$model" --normalization="$n" --report="$report" --max_risk=0.01 --abstain_below=0.5 "$work/shirt.pgm"
run "has no raps sets at alpha 0.2 \(it has 0.1, 0.05, 0.01\)" \
  --model="$model" --normalization="$n" --report="$report" --alpha=0.2 "$work/shirt.pgm"
run "old.textproto has no conformal section" \
  --model="$model" --normalization="$n" --report="$work/old.textproto" --alpha=0.1 "$work/shirt.pgm"
run "old.textproto has no conformal section" \
  --model="$model" --normalization="$n" --report="$work/old.textproto" --max_risk=0.01 "$work/shirt.pgm"

# --roi and --roi_csv.
for roi in 1,2,3 a,b,c,d 5,0,4,4 -1,0,3,3; do
  run "--roi=$roi: expected x1,y1,x2,y2" --model="$model" --normalization="$n" --roi="$roi" "$work/shirt.pgm"
done
run "shirt.pgm: region 0,0,28,27 from --roi is not inside the 28x28 image" \
  --model="$model" --normalization="$n" --roi=0,0,28,27 "$work/shirt.pgm"
header='Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId'
printf '%s\nshirt.pgm;28;28;0;0;27;27;1\n' "$header" > "$work/GT.csv"
run "--roi and --roi_csv exclude each other" --model="$model" --normalization="$n" --roi=0,0,3,3 --roi_csv="$work/GT.csv" "$work/shirt.pgm"
run "missing.csv" --model="$model" --normalization="$n" --roi_csv="$work/missing.csv" "$work/shirt.pgm"
run "short.pgm: no row for short.pgm in --roi_csv .*GT.csv" --model="$model" --normalization="$n" --roi_csv="$work/GT.csv" "$work/short.pgm"
printf 'Filename,Width\n' > "$work/comma.csv"
run "comma.csv:1: the header has no column \"Filename\"" --model="$model" --normalization="$n" --roi_csv="$work/comma.csv" "$work/shirt.pgm"
printf '%s\nshirt.pgm;30;30;0;0;27;27;1\n' "$header" > "$work/size.csv"
run "shirt.pgm is 28x28, .*size.csv:2 says 30x30" --model="$model" --normalization="$n" --roi_csv="$work/size.csv" "$work/shirt.pgm"

# Folders: one without images, one with a file that is not what it says.
mkdir -p "$work/no_images/sub" "$work/broken"
echo notes > "$work/no_images/notes.txt"
cp "$work/test/00.pgm" "$work/no_images/sub/"
run "no_images: folder holds no image files" --model="$model" --normalization="$n" "$work/no_images"
cp "$work/test/00.pgm" "$work/broken/a.pgm"
echo "not a png" > "$work/broken/b.png"
run "broken/b.png" --model="$model" --normalization="$n" "$work/broken"
# JSON cannot carry a file name that is not UTF-8.
mkdir "$work/latin1"
cp "$work/test/00.pgm" "$work/latin1/$(printf 'caf\xe9.pgm')"
run "not UTF-8" --model="$model" --normalization="$n" --format=json "$work/latin1"

succeeds "$predict" --model="$model" --normalization="$n" --manifest="$manifest" "$work/shirt.pgm"
help=$("$predict" --help 2>&1)
for flag in report abstain_below alpha conformal_score max_risk delta format roi roi_csv device precision; do
  grep -q -- "^  --$flag " <<<"$help" || fail "--help does not list --$flag"
done

# Good input. Outputs go to a folder of their own, outside the one the
# refusals above checked.
out=$(fresh_workdir)
common=(--model="$model" --normalization="$n" --manifest="$manifest" --top_k=10)
predict_to() {  # predict_to NAME ARGS...: stdout to NAME.out, stderr to NAME.err
  local name="$1"
  shift
  "$predict" "${common[@]}" "$@" > "$out/$name.out" 2> "$out/$name.err" ||
    fail "$name: exit $?: $(tail -2 "$out/$name.err")"
}
predict_to plain --format=json "$work/test"
predict_to scaled --format=json --report="$report" "$work/test"
grep -q '^temperature 1: no --report' "$out/plain.err" ||
  fail "no 'temperature 1: no --report' line: $(cat "$out/plain.err")"
[[ $(grep -c 'temperature' "$out/plain.err") == 1 ]] ||
  fail "the missing report is not said once: $(cat "$out/plain.err")"
grep -Eq "^temperature [0-9.]+ from $report \\(fitted by //eval:evaluate on [0-9]+ held-out images\\)" "$out/scaled.err" ||
  fail "no temperature line: $(cat "$out/scaled.err")"

# JSON: one object per image, in file order, with every field; the scaled
# probabilities are softmax(logits / T): p_T(c) = p(c)^(1/T) / sum p(c')^(1/T)
# over all 10 classes; T is the report's (not 1), and the top-1 class is kept.
python3 - "$out/plain.out" "$out/scaled.out" "$work/test" <<'PY' || fail "JSON checks failed"
import json, math, os, sys
plain = [json.loads(line) for line in open(sys.argv[1])]
scaled = [json.loads(line) for line in open(sys.argv[2])]
files = [os.path.join(sys.argv[3], f) for f in sorted(os.listdir(sys.argv[3]))]
assert [p["file"] for p in plain] == files, [p["file"] for p in plain]
assert [p["file"] for p in scaled] == files
for a, b in zip(plain, scaled):
    assert set(a) == {"file", "answer", "abstained", "top_k", "temperature",
                      "prediction_set", "set_score", "set_alpha"}, a
    assert a["prediction_set"] == [] and a["set_score"] == "", a
    assert a["temperature"] == 1 and a["abstained"] is False
    t = b["temperature"]
    assert t > 0 and abs(t - 1) > 1e-3, t
    assert len(a["top_k"]) == 10 and a["answer"] == a["top_k"][0]["name"]
    assert b["answer"] == a["answer"]
    p = {c["label"]: c["probability"] for c in a["top_k"]}
    q = {c["label"]: c["probability"] for c in b["top_k"]}
    z = sum(v ** (1 / t) for v in p.values())
    for label, v in p.items():
        assert abs(q[label] - v ** (1 / t) / z) < 1e-6, (label, q[label], v, t)
PY

# Abstention with the real report: an image is "abstain" exactly when its
# scaled top-1 probability is below P (0.95 abstains on some of these 12
# images, not all); the split's coverage and risk are stated once.
predict_to abstain --format=json --report="$report" --abstain_below=0.95 "$work/test"
python3 - "$out/abstain.out" <<'PY' || fail "abstention checks failed"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 12
for r in rows:
    low = r["top_k"][0]["probability"] < 0.95
    assert r["abstained"] == low, r
    assert r["answer"] == ("abstain" if low else r["top_k"][0]["name"]), r
assert any(r["abstained"] for r in rows) and not all(r["abstained"] for r in rows), \
    "0.95 should split these 12 images"
PY
grep -Eq "^--abstain_below=0.95 on the 10000 test images of $report: answered [0-9]+ \\(coverage 0\\.[0-9]{4}\\), risk 0\\.[0-9]{4} \\([0-9]+ wrong\\), abstained on [0-9]+$" "$out/abstain.err" ||
  fail "no coverage and risk line: $(cat "$out/abstain.err")"
predict_to abstain_text --report="$report" --abstain_below=0.95 "$work/test"
[[ $(grep -c ': abstain (top-1 ' "$out/abstain_text.out") == $(grep -c '"abstained":true' "$out/abstain.out") ]] ||
  fail "text and JSON abstain on different images: $(head -20 "$out/abstain_text.out")"

# Prediction sets at alpha 0.05 for each score: a class is in an image's set
# exactly when its score (recomputed here from the 10 probabilities) is at
# most the threshold the stderr line states; sets list the most probable
# first; the text form lists the same classes.
for score in lac aps raps; do
  predict_to "set_$score" --format=json --report="$report" --alpha=0.05 --conformal_score=$score "$work/test"
  predict_to "set_${score}_text" --report="$report" --alpha=0.05 --conformal_score=$score "$work/test"
  grep -Eq "^--alpha=0.05 $score sets: threshold [0-9.e-]+ fitted on 5000 calibration images of $report; coverage of new exchangeable images follows a law with mean 0\.9[0-9]+, 99% interval \[0\.9[0-9]+, 0\.9[0-9]+\]; on its 5000 conformal test images: coverage 0\.9[0-9]+, mean set size [0-9.]+$" "$out/set_$score.err" ||
    fail "no set line for $score: $(cat "$out/set_$score.err")"
  python3 - "$out/set_$score.out" "$out/set_$score.err" "$out/set_${score}_text.out" $score <<'PY' || fail "set checks failed for $score"
import json, re, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
q = float(re.search(r"threshold ([0-9.e-]+)", open(sys.argv[2]).read()).group(1))
text = open(sys.argv[3]).read()
score = sys.argv[4]
assert len(rows) == 12
for r in rows:
    assert r["set_score"] == score and r["set_alpha"] == 0.05, r
    ranked = r["top_k"]  # all 10 classes, most probable first
    scores, mass = {}, 0.0
    for rank, c in enumerate(ranked, 1):
        if score == "lac":
            scores[c["label"]] = 1 - c["probability"]
        elif score == "aps":
            scores[c["label"]] = mass
        else:
            scores[c["label"]] = mass + 0.01 * max(0, rank - 5)
        mass += c["probability"]
    got = [c["label"] for c in r["prediction_set"]]
    probs = [c["probability"] for c in r["prediction_set"]]
    assert probs == sorted(probs, reverse=True), r
    if score != "lac":
        assert got and got[0] == ranked[0]["label"], r
    # The threshold is printed to 6 digits: skip classes within 1e-5 of it.
    for label, s in scores.items():
        if abs(s - q) < 1e-5 * max(1, q):
            continue
        assert (label in got) == (s <= q), (label, s, q, got)
    names = ", ".join("%s %.4f" % (c["name"], c["probability"]) for c in r["prediction_set"])
    assert "  set (%s, alpha 0.05): {%s}\n" % (score, names) in text, names
PY
done

# --max_risk: the threshold chosen on the calibration images is applied
# (abstain exactly below it) and its expected coverage stated.
predict_to risk --format=json --report="$report" --max_risk=0.01 --delta=0.1 "$work/test"
grep -Eq "^--max_risk=0.01 --delta=0.1 on the 5000 calibration images of $report \(Learn then Test, binomial tests\): answer at confidence >= 0\.[0-9]+; expected coverage 0\.[0-9]{4} \(95% Wilson \[0\.[0-9]{4}, 0\.[0-9]{4}\]; [0-9]+ answered, [0-9]+ wrong, risk bound 0\.00[0-9]+\); on the 5000 conformal test images: coverage 0\.[0-9]{4}, risk 0\.0[0-9]+ \([0-9]+ wrong of [0-9]+ answered\)$" "$out/risk.err" ||
  fail "no --max_risk line: $(cat "$out/risk.err")"
python3 - "$out/risk.out" "$out/risk.err" <<'PY' || fail "--max_risk abstention checks failed"
import json, re, sys
t = float(re.search(r"confidence >= ([0-9.e-]+);", open(sys.argv[2]).read()).group(1))
for line in open(sys.argv[1]):
    r = json.loads(line)
    p = r["top_k"][0]["probability"]
    if abs(p - t) > 1e-6:
        assert r["abstained"] == (p < t), (p, t, r["abstained"])
PY

# The coverage and risk come from the report's own list: 5 images, 0.7
# keeps 3 of them with 1 wrong.
{ printf 'split: "validation"\nnum_images: 5\ntemperature: 2\ncheckpoint_sha256: "%s"\n' "$sha"
  printf 'scaled_confidences { confidence: [0.9, 0.8, 0.7, 0.6, 0.5] correct: [true, true, false, true, false] }\n'
} > "$work/five.textproto"
predict_to five --report="$work/five.textproto" --abstain_below=0.7 "$work/test/00.pgm"
grep -qx -- "--abstain_below=0.7 on the 5 validation images of $work/five.textproto: answered 3 (coverage 0.6000), risk 0.3333 (1 wrong), abstained on 2" "$out/five.err" ||
  fail "coverage and risk of five.textproto: $(cat "$out/five.err")"

# A folder gives the same answers as its files one by one, in name order,
# its other files and sub-folders left out.
mkdir -p "$work/mixed/sub"
cp "$work/test/03.pgm" "$work/mixed/b.pgm"
cp "$work/test/07.pgm" "$work/mixed/a.PGM"
cp "$work/test/01.pgm" "$work/mixed/sub/c.pgm"
echo notes > "$work/mixed/README.txt"
predict_to folder "$work/mixed"
predict_to files "$work/mixed/a.PGM" "$work/mixed/b.pgm"
cmp -s "$out/folder.out" "$out/files.out" ||
  fail "folder differs from its files: $(diff "$out/folder.out" "$out/files.out" | head -5)"
[[ $(grep -c '^/' "$out/folder.out") == 2 ]] || fail "folder: $(cat "$out/folder.out")"

# A region of interest: a 28x28 test image inside a 60x50 noise image,
# cropped by --roi or by a GTSRB CSV row, is answered as the image itself.
python3 - "$work/test/05.pgm" "$work/framed.pgm" <<'PY' || fail "framing failed"
import random, sys
data = open(sys.argv[1], "rb").read()[len(b"P5\n28 28\n255\n"):]
random.seed(7)
pixels = bytearray(random.randrange(256) for _ in range(60 * 50))
for y in range(28):
    pixels[(y + 13) * 60 + 21:(y + 13) * 60 + 49] = data[y * 28:(y + 1) * 28]
open(sys.argv[2], "wb").write(b"P5\n60 50\n255\n" + bytes(pixels))
PY
predict_to alone "$work/test/05.pgm"
predict_to roi --roi=21,13,48,40 "$work/framed.pgm"
predict_to whole "$work/framed.pgm"
printf '%s\nframed.pgm;60;50;21;13;48;40;0\n' "$header" > "$work/frame.csv"
predict_to roi_csv --roi_csv="$work/frame.csv" "$work/framed.pgm"
[[ $(tail -n +2 "$out/roi.out") == $(tail -n +2 "$out/alone.out") ]] ||
  fail "--roi crop differs from the image: $(paste "$out/roi.out" "$out/alone.out")"
[[ $(tail -n +2 "$out/roi_csv.out") == $(tail -n +2 "$out/alone.out") ]] ||
  fail "--roi_csv crop differs from the image: $(paste "$out/roi_csv.out" "$out/alone.out")"
[[ $(tail -n +2 "$out/whole.out") != $(tail -n +2 "$out/alone.out") ]] ||
  fail "the uncropped frame gives the image's answer: the crop is not tested"

finish
