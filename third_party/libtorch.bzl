"""Repository rule locating LibTorch.

Default: Debian's CPU LibTorch under /usr. `--repo_env=LIBTORCH_HOME=DIR`
selects another one laid out as pytorch.org's zip (DIR/include,
DIR/include/torch/csrc/api/include, DIR/lib). `--config=cuda` sets
VIT_MOE_CUDA=1, which requires LIBTORCH_HOME to hold a CUDA build and fails
with a message saying so otherwise, rather than silently building for CPU.
"""

_CUDA_HINT = ("--config=cuda needs a CUDA LibTorch: pass " +
              "--repo_env=LIBTORCH_HOME=/path/to/libtorch (pytorch.org's " +
              "LibTorch zip, or the torch/ folder of a CUDA PyTorch install)")

def _libtorch_repository_impl(ctx):
    home = ctx.os.environ.get("LIBTORCH_HOME", "")
    want_cuda = ctx.os.environ.get("VIT_MOE_CUDA", "0") == "1"
    if home:
        root = ctx.path(home)
        if not root.get_child("include").exists:
            fail("LIBTORCH_HOME=%s has no include/ folder; expected a LibTorch tree" % home)
        ctx.symlink(root.get_child("include"), "include")
        lib_dir = str(root.get_child("lib"))
        includes = ["include", "include/torch/csrc/api/include"]
    else:
        if want_cuda:
            fail(_CUDA_HINT)
        ctx.symlink("/usr/include/torch/csrc/api/include", "api_include")
        lib_dir = "/usr/lib/x86_64-linux-gnu"
        includes = ["api_include"]

    has_cuda = ctx.path(lib_dir + "/libtorch_cuda.so").exists
    if want_cuda and not has_cuda:
        fail("%s: no libtorch_cuda.so in %s. %s" % (home, lib_dir, _CUDA_HINT))

    libs = ["-ltorch", "-ltorch_cpu", "-lc10"]
    defines = []
    if has_cuda:
        libs += ["-ltorch_cuda", "-lc10_cuda"]
        defines.append("VIT_MOE_HAVE_CUDA=1")

    # --no-as-needed keeps libtorch_cuda linked although no symbol is used
    # directly: it registers the CUDA kernels at load time.
    linkopts = ["-L" + lib_dir, "-Wl,-rpath," + lib_dir, "-Wl,--push-state,--no-as-needed"] + libs + ["-Wl,--pop-state", "-lpthread"]
    ctx.file("BUILD.bazel", """
cc_library(
    name = "libtorch",
    hdrs = glob(["include/**/*.h", "api_include/**/*.h"], allow_empty = True),
    includes = {includes},
    defines = {defines},
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
""".format(includes = repr(includes), defines = repr(defines), linkopts = repr(linkopts)))

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    environ = ["LIBTORCH_HOME", "VIT_MOE_CUDA"],
    local = True,
)
