#include "common/command_line.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace vit_moe {
namespace {

bool IsHelpFlag(absl::string_view name) {
  return name == "help" || name == "helpfull" || name == "helpshort" ||
         name == "h";
}

bool IsBool(const absl::CommandLineFlag& flag) { return flag.IsOfType<bool>(); }

bool IsList(const absl::CommandLineFlag& flag) {
  return flag.IsOfType<std::vector<std::string>>();
}

absl::Status SetFlag(absl::CommandLineFlag& flag, absl::string_view value) {
  std::string error;
  if (flag.ParseFrom(value, &error)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag.Name(), "=", value, ": ",
                   error.empty() ? "bad value" : error, "; see --help"));
}

}  // namespace

absl::StatusOr<CommandLine> ParseFlags(int argc, char** argv) {
  CommandLine line;
  // List flags, in the order first given, with every occurrence's value.
  std::vector<std::pair<absl::CommandLineFlag*, std::string>> lists;
  int i = 1;
  for (; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      line.arguments.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    const bool has_value = equals != absl::string_view::npos;
    if (IsHelpFlag(name) && !has_value) {
      line.help = true;
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated =
          absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && IsBool(*negated)) {
        if (absl::Status s = SetFlag(*negated, "false"); !s.ok()) return s;
        continue;
      }
    }
    if (flag == nullptr || flag->IsRetired()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, "; see --help"));
    }
    absl::string_view value;
    if (has_value) {
      value = arg.substr(equals + 1);
    } else if (IsBool(*flag)) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " is missing its value; see --help"));
    }
    if (IsList(*flag)) {
      auto it = std::find_if(lists.begin(), lists.end(), [&](const auto& list) {
        return list.first == flag;
      });
      if (it == lists.end()) {
        lists.emplace_back(flag, std::string(value));
      } else {
        absl::StrAppend(&it->second, ",", value);
      }
      continue;
    }
    if (absl::Status s = SetFlag(*flag, value); !s.ok()) return s;
  }
  for (const auto& [flag, values] : lists) {
    if (absl::Status s = SetFlag(*flag, values); !s.ok()) return s;
  }
  for (; i < argc; ++i) line.arguments.emplace_back(argv[i]);
  return line;
}

std::string HelpText(absl::string_view usage) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StrContains(flag->Filename(), "absl/")) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::string text = absl::StrCat(usage, "\n\nFlags:\n");
  for (const absl::CommandLineFlag* flag : flags) {
    const std::string default_value = flag->DefaultValue();
    absl::StrAppend(&text, "  --", flag->Name(), "  ",
                    absl::StrReplaceAll(flag->Help(), {{"\n", " "}}),
                    default_value.empty()
                        ? ""
                        : absl::StrCat(" (default: ", default_value, ")"),
                    "\n");
  }
  absl::StrAppend(&text, "  --help  Prints this text.\n");
  return text;
}

}  // namespace vit_moe
