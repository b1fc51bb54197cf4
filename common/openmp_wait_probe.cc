// Prints its arguments and the wait policy its environment holds, asks a
// child shell for the child's view, then runs one LibTorch parallel
// operation so that libgomp has started its threads.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) std::printf("argument=%s\n", argv[i]);
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("OMP_WAIT_POLICY=%s\n", policy != nullptr ? policy : "(unset)");
  std::fflush(stdout);
  if (std::system("echo \"child OMP_WAIT_POLICY=$OMP_WAIT_POLICY "
                  "PROBE_MARK=$PROBE_MARK\"") != 0) {
    return 1;
  }
  torch::set_num_threads(2);
  const double sum = torch::ones({1 << 16}).sum().item<double>();
  std::printf("sum=%.0f\n", sum);
  return 0;
}
