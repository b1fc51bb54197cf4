// Parsing a stage binary's command line against its Abseil flags without
// leaving the process: Abseil's own parser exits with status 1 on an unknown
// flag or a bad value, and 1 means "the check failed" in this project's exit
// contract (common/startup.h), where bad input is 2.
#ifndef VIT_MOE_COMMON_COMMAND_LINE_H_
#define VIT_MOE_COMMON_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

struct CommandLine {
  // Positional arguments in order, program name excluded.
  std::vector<std::string> arguments;
  // --help, -help, --helpfull, --helpshort or -h was given.
  bool help = false;
};

// Sets the registered Abseil flags from argv[1..argc): `--name=value`,
// `--name value`, `--name` / `--noname` for booleans (one dash works too),
// and `--` ending the flags. Every flag is checked before any positional
// argument is returned; an unknown flag or a value the flag's type refuses
// gives InvalidArgument naming the flag and the value. A list flag
// (std::vector<std::string>) may be repeated: its values accumulate in
// order (Abseil's parser keeps only the last), each split at commas.
absl::StatusOr<CommandLine> ParseFlags(int argc, char** argv);

// `usage`, then every flag defined outside Abseil itself, sorted by name,
// with its help text and default.
std::string HelpText(absl::string_view usage);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_COMMAND_LINE_H_
