"""Repository rule locating LibTorch.

Default: Debian's CPU LibTorch under /usr. `--repo_env=LIBTORCH_HOME=DIR`
selects another one laid out as pytorch.org's zip (DIR/include,
DIR/include/torch/csrc/api/include, DIR/lib). `--config=cuda` sets
VIT_MOE_CUDA=1, which requires LIBTORCH_HOME to hold a CUDA build and fails
with a message saying so otherwise, rather than silently building for CPU.

ABI: every other library here comes from Debian (Abseil, Protobuf, glog,
OpenCV), built with the C++11 libstdc++ ABI, so LibTorch must be too:
pytorch.org's "cxx11 ABI" zip, or a PyTorch wheel built with it. A tree
whose TorchConfig.cmake says -D_GLIBCXX_USE_CXX11_ABI=0 (older pip wheels,
the "Pre-cxx11 ABI" zip) is refused here, since it would only fail later
with undefined std::__cxx11 symbols at link time.
"""

_CUDA_HINT = ("--config=cuda needs a CUDA LibTorch: pass " +
              "--repo_env=LIBTORCH_HOME=/path/to/libtorch (pytorch.org's " +
              "LibTorch zip, or the torch/ folder of a CUDA PyTorch install)")

def _check_abi(ctx, root):
    for config in ["share/cmake/Torch/TorchConfig.cmake", "lib/cmake/Torch/TorchConfig.cmake"]:
        path = ctx.path("%s/%s" % (root, config))
        if path.exists and "_GLIBCXX_USE_CXX11_ABI=0" in ctx.read(path):
            fail(("LIBTORCH_HOME=%s is built with the pre-C++11 libstdc++ ABI " +
                  "(_GLIBCXX_USE_CXX11_ABI=0, see %s); this project's Debian " +
                  "libraries use the C++11 ABI: use pytorch.org's cxx11 ABI " +
                  "LibTorch zip") % (str(root), config))

def _libtorch_repository_impl(ctx):
    home = ctx.os.environ.get("LIBTORCH_HOME", "")
    want_cuda = ctx.os.environ.get("VIT_MOE_CUDA", "0") == "1"
    if home:
        root = ctx.path(home)
        if not root.get_child("include").exists:
            fail("LIBTORCH_HOME=%s has no include/ folder; expected a LibTorch tree" % home)
        _check_abi(ctx, root)
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

        # ProcessGroupNCCL.hpp declares its class only under this macro, which
        # LibTorch's own CMake config leaves to the user.
        if home and ctx.path(home + "/include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp").exists:
            defines.append("USE_C10D_NCCL")

    # --no-as-needed keeps libtorch_cuda linked although no symbol is used
    # directly: it registers the CUDA kernels at load time.
    # Every process that loads LibTorch loads its OpenMP runtime, which spins
    # while waiting unless told otherwise; the dependency makes each such
    # executable wait passively (common/openmp_passive_wait.cc).
    linkopts = ["-L" + lib_dir, "-Wl,-rpath," + lib_dir, "-Wl,--push-state,--no-as-needed"] + libs + ["-Wl,--pop-state", "-lpthread"]
    ctx.file("BUILD.bazel", """
cc_library(
    name = "libtorch",
    hdrs = glob(["include/**/*.h", "api_include/**/*.h"], allow_empty = True),
    includes = {includes},
    defines = {defines},
    linkopts = {linkopts},
    deps = ["@//common:openmp_passive_wait"],
    visibility = ["//visibility:public"],
)
""".format(includes = repr(includes), defines = repr(defines), linkopts = repr(linkopts)))

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    environ = ["LIBTORCH_HOME", "VIT_MOE_CUDA"],
    local = True,
)
