"""Rules that run the pipeline's stage binaries as Bazel build actions.

Each stage is one action whose inputs are the upstream artifacts, the
configs and the stage binary, and whose outputs are its artifacts. Bazel's
action cache therefore re-runs exactly the stages whose inputs changed:
editing gate thresholds re-runs only the gate; editing the training config
re-runs train, evaluate and gate; nothing re-runs on a second build.

Stage binaries are taken in the target configuration (cfg = "target"): the
actions run on this machine anyway, and an exec-configured copy would compile
every LibTorch source a second time.
"""

def _stage_action(ctx, executable, arguments, inputs, outputs, mnemonic, message, tools = []):
    # Stages use every core themselves, and side by side their OpenMP threads
    # spin against each other: two chains' trainings ran at 67 images/s each
    # instead of ~1,000 alone. Bazel 4.2 schedules local actions by count and
    # ignores a cpu:N requirement on them, so a lock every stage takes (in any
    # workspace on the machine; gate_bites_test's training too) runs them one
    # at a time.
    ctx.actions.run_shell(
        command = 'exec flock /tmp/vit_moe_stage.lock "$@"',
        arguments = [executable.executable.path] + arguments,
        inputs = inputs,
        tools = [executable] + tools,
        outputs = outputs,
        mnemonic = mnemonic,
        progress_message = message,
        use_default_shell_env = True,
    )

def _outputs(ctx, out):
    # As runfiles too, so that a test listing a stage in `data` can read it.
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

def _dataset_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    arguments = ["--dataset=" + ctx.attr.dataset, "--out_dir=" + out.path]
    if ctx.files.local_files:
        arguments.append("--mirror=" + ctx.files.local_files[0].dirname)
    _stage_action(
        ctx,
        ctx.attr._download[DefaultInfo].files_to_run,
        arguments,
        ctx.files.local_files,
        [out],
        "DatasetDownload",
        "Downloading and packing %s" % ctx.attr.dataset,
    )
    return _outputs(ctx, out)

pipeline_dataset = rule(
    implementation = _dataset_impl,
    doc = "Runs //data:download: a packed store with manifest.pb. The pinned " +
          "sources are compiled into the binary, so editing them re-runs it.",
    attrs = {
        "dataset": attr.string(mandatory = True),
        "local_files": attr.label_list(
            allow_files = True,
            doc = "Source files on disk (one folder), read via --mirror; " +
                  "without them the stage downloads (needs network).",
        ),
        "_download": attr.label(default = "//data:download", executable = True, cfg = "target"),
    },
)

def _images_root(files):
    """The folder holding train/ (and validation/, test/) of `files`."""
    if len(files) == 1 and files[0].is_directory:
        return files[0].path
    for f in files:
        at = f.path.find("/train/")
        if at >= 0:
            return f.path[:at]
    fail("images: no file under a train/ folder (expected ROOT/train/<class>/<image>)")

def _imported_dataset_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    _stage_action(
        ctx,
        ctx.attr._import[DefaultInfo].files_to_run,
        [
            "--from=" + _images_root(ctx.files.images),
            "--out_dir=" + out.path,
        ] + ctx.attr.flags,
        ctx.files.images,
        [out],
        "DatasetImport",
        "Importing images into %s" % ctx.label,
    )
    return _outputs(ctx, out)

pipeline_imported_dataset = rule(
    implementation = _imported_dataset_impl,
    doc = "Runs //data:import on an image folder (ROOT/<split>/<class>/<image>): " +
          "a packed store with manifest.pb, like pipeline_dataset.",
    attrs = {
        "images": attr.label_list(
            allow_files = True,
            mandatory = True,
            doc = "The images (a glob under ROOT/train/..., or one folder " +
                  "artifact holding train/); every file is an input.",
        ),
        "flags": attr.string_list(doc = "Flags for //data:import, e.g. --side=32 --channels=3."),
        "_import": attr.label(default = "//data:import", executable = True, cfg = "target"),
    },
)

def _exported_images_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    store = ctx.files.dataset[0]

    _stage_action(
        ctx,
        ctx.attr._export[DefaultInfo].files_to_run,
        ["--manifest=%s/manifest.pb" % store.path, "--out_dir=" + out.path],
        [store],
        [out],
        "ExportImages",
        "Exporting %s as PNG files" % ctx.attr.dataset.label,
    )
    return _outputs(ctx, out)

pipeline_exported_images = rule(
    implementation = _exported_images_impl,
    doc = "Runs //data:export_images on a store: an image folder artifact.",
    attrs = {
        "dataset": attr.label(mandatory = True),
        "_export": attr.label(default = "//data:export_images", executable = True, cfg = "target"),
    },
)

def _normalization_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".pb")
    store = ctx.files.dataset[0]
    _stage_action(
        ctx,
        ctx.attr._normalize[DefaultInfo].files_to_run,
        ["--manifest=%s/manifest.pb" % store.path, "--out=" + out.path],
        [store],
        [out],
        "DatasetNormalize",
        "Computing normalization of %s" % ctx.attr.dataset.label,
    )
    return _outputs(ctx, out)

pipeline_normalization = rule(
    implementation = _normalization_impl,
    doc = "Runs //data:normalize over a pipeline_dataset.",
    attrs = {
        "dataset": attr.label(mandatory = True),
        "_normalize": attr.label(default = "//data:normalize", executable = True, cfg = "target"),
    },
)

def _training_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    store = ctx.files.dataset[0]
    train = ctx.attr._train[DefaultInfo].files_to_run
    arguments = [
        "--config=" + ctx.file.config.path,
        "--manifest=%s/manifest.pb" % store.path,
        "--normalization=" + ctx.file.normalization.path,
        "--output_dir=" + out.path,
    ] + ctx.attr.flags
    executable, tools, message = train, [], "Training %s" % ctx.label
    if ctx.attr.processes > 1:
        # Data-parallel over local processes; port 0: chains training side by
        # side must not meet in one rendezvous store.
        arguments = ["--nproc_per_node=%d" % ctx.attr.processes, "--rdzv_port=0", "--", train.executable.path] + arguments
        executable, tools = ctx.attr._launch[DefaultInfo].files_to_run, [train]
        message = "Training %s in %d processes" % (ctx.label, ctx.attr.processes)
    _stage_action(
        ctx,
        executable,
        arguments,
        [store, ctx.file.normalization, ctx.file.config],
        [out],
        "TrainModel",
        message,
        tools = tools,
    )
    return _outputs(ctx, out)

pipeline_training = rule(
    implementation = _training_impl,
    doc = "Runs //pipeline:train: training_run.pb, best_model.pt, curves.",
    attrs = {
        "config": attr.label(allow_single_file = [".textproto"], mandatory = True),
        "dataset": attr.label(mandatory = True),
        "normalization": attr.label(allow_single_file = True, mandatory = True),
        "flags": attr.string_list(doc = "Extra flags for the train binary."),
        "processes": attr.int(
            default = 1,
            doc = "Local processes training data-parallel (//pipeline/distributed:launch); " +
                  "each takes cores / processes threads. Part of the recipe: ranks draw " +
                  "their own dropout, so the numbers depend on it.",
        ),
        "_launch": attr.label(default = "//pipeline/distributed:launch", executable = True, cfg = "target"),
        "_train": attr.label(default = "//pipeline:train", executable = True, cfg = "target"),
    },
)

def _evaluation_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    store = ctx.files.dataset[0]
    run = ctx.files.training[0]
    _stage_action(
        ctx,
        ctx.attr._evaluate[DefaultInfo].files_to_run,
        [
            "--model=%s/best_model.pt" % run.path,
            "--manifest=%s/manifest.pb" % store.path,
            "--normalization=" + ctx.file.normalization.path,
            "--split=" + ctx.attr.split,
            "--out_dir=" + out.path,
        ] + ctx.attr.flags,
        [store, run, ctx.file.normalization],
        [out],
        "EvaluateModel",
        "Evaluating %s" % ctx.attr.training.label,
    )
    return _outputs(ctx, out)

pipeline_evaluation = rule(
    implementation = _evaluation_impl,
    doc = "Runs //eval:evaluate: report.pb, report.md and figures.",
    attrs = {
        "training": attr.label(mandatory = True),
        "dataset": attr.label(mandatory = True),
        "normalization": attr.label(allow_single_file = True, mandatory = True),
        "split": attr.string(default = "test"),
        "flags": attr.string_list(doc = "Extra flags for the evaluate binary."),
        "_evaluate": attr.label(default = "//eval:evaluate", executable = True, cfg = "target"),
    },
)

def _gate_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    report = ctx.files.evaluation[0]
    inputs = [report, ctx.file.thresholds]
    baseline = []
    if ctx.file.baseline:
        baseline = ["--baseline=" + ctx.file.baseline.path]
        inputs.append(ctx.file.baseline)
    ctx.actions.run_shell(
        command = 'out="$1"; shift; "$@" > "$out.tmp" 2>&1 && mv "$out.tmp" "$out" || { cat "$out.tmp"; exit 1; }',
        arguments = [
            out.path,
            ctx.executable._gate.path,
            "--report=%s/evaluation.pb" % report.path,
            "--thresholds=" + ctx.file.thresholds.path,
        ] + baseline,
        inputs = inputs,
        tools = [ctx.attr._gate[DefaultInfo].files_to_run],
        outputs = [out],
        mnemonic = "AccuracyGate",
        progress_message = "Gating %s" % ctx.attr.evaluation.label,
    )
    return _outputs(ctx, out)

pipeline_gate = rule(
    implementation = _gate_impl,
    doc = "Runs //eval:gate; the build fails when a threshold is missed.",
    attrs = {
        "evaluation": attr.label(mandatory = True),
        "thresholds": attr.label(allow_single_file = [".textproto"], mandatory = True),
        "baseline": attr.label(
            allow_single_file = True,
            doc = "A report (baseline.textproto of an earlier evaluation) " +
                  "the model is compared with image by image (--baseline).",
        ),
        "_gate": attr.label(default = "//eval:gate", executable = True, cfg = "target"),
    },
)

def _seed_summary_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".md")
    reports = ["%s/evaluation.pb" % e.path for e in ctx.files.evaluations]
    ctx.actions.run(
        executable = ctx.executable._summary,
        arguments = ["--out=" + out.path] + reports,
        inputs = ctx.files.evaluations,
        outputs = [out],
        mnemonic = "SeedSummary",
        progress_message = "Summarising %d seeds of %s" % (len(reports), ctx.label),
    )
    return _outputs(ctx, out)

pipeline_seed_summary = rule(
    implementation = _seed_summary_impl,
    doc = "Runs //eval:seed_summary: mean and standard deviation of every " +
          "headline metric over evaluations of one recipe with several seeds.",
    attrs = {
        "evaluations": attr.label_list(mandatory = True),
        "_summary": attr.label(default = "//eval:seed_summary", executable = True, cfg = "target"),
    },
)

def _train_and_evaluate(name, run, train_config, train_flags, train_processes, eval_flags):
    """RUN_training and RUN_evaluation on the data of chain `name`."""
    pipeline_training(
        tags = ["manual"],
        name = run + "_training",
        config = train_config,
        dataset = name + "_data",
        normalization = name + "_normalization",
        flags = train_flags,
        processes = train_processes,
    )
    pipeline_evaluation(
        tags = ["manual"],
        name = run + "_evaluation",
        training = run + "_training",
        dataset = name + "_data",
        normalization = name + "_normalization",
        flags = eval_flags,
    )

def vit_moe_pipeline(
        name,
        train_config,
        thresholds,
        dataset = None,
        local_files = [],
        images = [],
        import_flags = [],
        train_flags = [],
        train_processes = 1,
        eval_flags = [],
        baseline = None,
        baseline_thresholds = None,
        extra_seeds = []):
    """download (or import) -> normalize -> train -> evaluate -> gate, as `name`.

    The data comes from `dataset` (a published set: fashion_mnist, cifar10,
    gtsrb; `local_files` read instead of downloading) or from `images`, an
    image folder of your own imported by //data:import with `import_flags`.
    `train_processes` > 1 trains data-parallel in that many local processes.
    `baseline` with `baseline_thresholds`: a second gate, NAME_baseline_gate,
    compares the model image by image with that report (//eval:gate
    --baseline; those thresholds set the margin and significance).
    `extra_seeds`: the same recipe trained again with each of these seeds
    (`--set=seed=S`) and evaluated alike, as NAME_seedS_training and
    NAME_seedS_evaluation; NAME_seeds.md (target NAME_seeds) gives the mean
    and standard deviation of every headline metric over the config's own
    seed and these.

    Every target is tagged manual: `bazel build //...` must not start an
    hour of training or a download; name the chain to run it.
    """
    if (dataset == None) == (not images):
        fail("vit_moe_pipeline %s: give either dataset or images" % name)
    if images:
        pipeline_imported_dataset(name = name + "_data", images = images, flags = import_flags, tags = ["manual"])
    else:
        pipeline_dataset(name = name + "_data", dataset = dataset, local_files = local_files, tags = ["manual"])
    pipeline_normalization(name = name + "_normalization", dataset = name + "_data", tags = ["manual"])
    _train_and_evaluate(name, name, train_config, train_flags, train_processes, eval_flags)
    pipeline_gate(name = name + "_gate", evaluation = name + "_evaluation", thresholds = thresholds, tags = ["manual"])
    if (baseline == None) != (baseline_thresholds == None):
        fail("vit_moe_pipeline %s: give baseline and baseline_thresholds together" % name)
    gates = [name + "_gate"]
    if baseline:
        pipeline_gate(
            name = name + "_baseline_gate",
            evaluation = name + "_evaluation",
            thresholds = baseline_thresholds,
            baseline = baseline,
            tags = ["manual"],
        )
        gates.append(name + "_baseline_gate")
    for seed in extra_seeds:
        _train_and_evaluate(
            name,
            "%s_seed%d" % (name, seed),
            train_config,
            train_flags + ["--set=seed=%d" % seed],
            train_processes,
            eval_flags,
        )
    if extra_seeds:
        pipeline_seed_summary(
            name = name + "_seeds",
            evaluations = [name + "_evaluation"] + ["%s_seed%d_evaluation" % (name, s) for s in extra_seeds],
            tags = ["manual"],
        )
    native.filegroup(
        name = name,
        tags = ["manual"],
        srcs = gates + [name + "_evaluation", name + "_training"],
    )
