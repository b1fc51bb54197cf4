"""Checks an expanded GitLab CI definition (JSON from gitlab-ci-local
--preview) against this repository: the expected stages and jobs, and that
every script line names files and Bazel targets that exist.

  python3 ci/check_gitlab_ci.py PREVIEW_JSON TARGETS_FILE

TARGETS_FILE lists every label `bazel query //...` knows, one per line.
Prints one line per problem and exits 1 if there is any.
"""
import json
import os
import re
import shlex
import sys

STAGES = ["setup", "build", "unit-tests", "pipeline", "gate"]
# job -> (stage, manual)
JOBS = {
    "setup": ("setup", False),
    "build": ("build", False),
    "unit-tests": ("unit-tests", False),
    "pipeline": ("pipeline", False),
    "gate": ("gate", False),
    "gpu-training": ("pipeline", True),
}
# Variables GitLab or the runner sets; their values are not files here.
RUNNER_VARIABLES = {"CI_PROJECT_DIR", "CI_COMMIT_REF_SLUG", "LIBTORCH_HOME"}
# Flags whose value is a file the job reads. Output files (such as the
# second argument of gpu_check.sh) are not judged.
INPUT_FLAGS = {"--report", "--thresholds", "--file"}


def expand(word, variables):
    def value(match):
        name = match.group(1) or match.group(2)
        if name in variables:
            return expand(variables[name], variables)
        return match.group(0)
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, word)


def label_of(word):
    """The Bazel label a word names, or None."""
    if word.startswith("//"):
        return word if ":" in word else word + ":" + word.rsplit("/", 1)[-1]
    if word.startswith("bazel-bin/"):
        path = word[len("bazel-bin/"):]
        package, _, name = path.rpartition("/")
        return "//%s:%s" % (package, name)
    return None


def check_line(job, line, variables, targets, produced, problems):
    try:
        words = shlex.split(line)
    except ValueError as error:
        problems.append("%s: cannot parse %r: %s" % (job, line, error))
        return
    for raw in words:
        # --flag=value: judge the value; an input flag's value must exist.
        flag, _, value = raw.partition("=")
        is_input = raw.startswith("--") and flag in INPUT_FLAGS
        word = value if raw.startswith("--") and value else raw
        word = expand(word, variables)
        if "$" in word:
            names = set(re.findall(r"\$\{?(\w+)", word))
            if not names <= RUNNER_VARIABLES:
                problems.append("%s: %r uses undefined variable(s) %s"
                                % (job, raw, ", ".join(sorted(names - RUNNER_VARIABLES))))
            continue
        if word == "//..." or word.startswith("//") and word.endswith("/..."):
            continue
        label = label_of(word)
        if label is not None:
            if label not in targets:
                problems.append("%s: %r names %s, which is no Bazel target"
                                % (job, raw, label))
            continue
        if is_input or re.search(r"\.(sh|py|textproto)$", word):
            if any(word.startswith(p) for p in produced):
                continue  # an earlier job's artifact
            if not os.path.exists(word):
                problems.append("%s: %r names %s, which does not exist"
                                % (job, raw, word))


def main(preview_path, targets_path):
    with open(preview_path) as f:
        config = json.load(f)
    with open(targets_path) as f:
        targets = {line.strip() for line in f if line.strip()}
    problems = []
    stages = [s for s in config.get("stages", []) if not s.startswith(".")]
    if stages != STAGES:
        problems.append("stages are %s; expected %s" % (stages, STAGES))
    variables = dict(config.get("variables", {}))
    jobs = {name: job for name, job in config.items()
            if isinstance(job, dict) and "script" in job and not name.startswith(".")}
    for name, (stage, manual) in JOBS.items():
        job = jobs.get(name)
        if job is None:
            problems.append("job %s is missing" % name)
            continue
        if job.get("stage") != stage:
            problems.append("job %s is in stage %s; expected %s" % (name, job.get("stage"), stage))
        if (job.get("when") == "manual") != manual:
            problems.append("job %s: manual should be %s" % (name, manual))
    for name in sorted(set(jobs) - set(JOBS)):
        problems.append("unexpected job %s" % name)

    # Artifacts of jobs in earlier stages, by path prefix.
    order = {s: i for i, s in enumerate(STAGES)}
    for name, job in sorted(jobs.items(), key=lambda kv: order.get(kv[1].get("stage"), 99)):
        produced = []
        for other in jobs.values():
            if order.get(other.get("stage"), 99) < order.get(job.get("stage"), 99):
                produced += other.get("artifacts", {}).get("paths", [])
        job_variables = dict(variables)
        job_variables.update(job.get("variables", {}))
        for key in ("before_script", "script", "after_script"):
            for line in job.get(key, []):
                check_line(name, line, job_variables, targets, produced, problems)
    for problem in problems:
        print("gitlab-ci: " + problem)
    print("gitlab-ci: %d jobs checked, %d problem(s)" % (len(jobs), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
