// Makes OpenMP threads sleep rather than spin while they wait for work,
// unless the environment already chooses (OMP_WAIT_POLICY, GOMP_SPINCOUNT).
//
// LibTorch and OpenBLAS share libgomp, whose default is to spin for about
// 300,000 iterations at every barrier. With one core busy elsewhere (a
// compile action, a second job) a spinning thread holds the core its
// descheduled partner needs: a training of 2 threads ran 3.4-4x slower
// (4.2x on an AMD EPYC), waiting passively 1.0-1.8x, at a cost of up to a
// fifth alone on the Intel machine and none on the AMD one (pipeline/
// README.md, "Under load"). Trainings avoid the trade by running one
// single-threaded rank per core; what still runs one process of several
// threads (evaluation, prediction, benchmarks) takes the robust side. The
// wait policy changes when a thread sleeps, never how work is split or
// summed, so results are bitwise the same either way (measured) and it is
// not part of the numeric environment.
//
// libgomp reads the variable once, in a constructor that runs when the
// library is loaded, and C library start-up resets the environment after
// any earlier setenv. So the executable's preinit hook, which runs before
// every shared library's constructor, re-executes the program once with the
// variable added; the new image finds it set and carries on. Children
// inherit it. When the re-execution fails (no /proc), the program runs on
// with libgomp's default.
#include <unistd.h>

#include <cstring>

namespace {

bool IsVariable(const char* entry, const char* name) {
  const size_t length = std::strlen(name);
  return std::strncmp(entry, name, length) == 0 && entry[length] == '=';
}

void PreferPassiveWait(int argc, char** argv, char** envp) {
  size_t count = 0;
  for (; envp[count] != nullptr; ++count) {
    if (IsVariable(envp[count], "OMP_WAIT_POLICY") ||
        IsVariable(envp[count], "GOMP_SPINCOUNT")) {
      return;
    }
  }
  // Nothing is initialised yet, not even malloc: the new environment lives
  // on the stack until execve copies it.
  static char passive[] = "OMP_WAIT_POLICY=PASSIVE";
  char** env =
      static_cast<char**>(__builtin_alloca((count + 2) * sizeof(char*)));
  std::memcpy(env, envp, count * sizeof(char*));
  env[count] = passive;
  env[count + 1] = nullptr;
  execve("/proc/self/exe", argv, env);
}

__attribute__((section(".preinit_array"),
               used)) void (*const kPreferPassiveWait)(int, char**, char**) =
    &PreferPassiveWait;

}  // namespace
