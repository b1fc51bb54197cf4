#include "pipeline/distributed/world.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(int, rank, -1, "Rank of this process; default: $RANK, else 0.");
ABSL_FLAG(int, world_size, -1,
          "Processes in the job; default: $WORLD_SIZE, else 1.");
ABSL_FLAG(int, local_rank, -1,
          "Rank on this machine; default: $LOCAL_RANK, else the rank.");
ABSL_FLAG(std::string, master_addr, "",
          "Host of rank 0's rendezvous store; default: $MASTER_ADDR, else "
          "127.0.0.1.");
ABSL_FLAG(int, master_port, -1,
          "Port of the rendezvous store; default: $MASTER_PORT, else 29500.");

namespace vit_moe::distributed {
namespace {

// Flag if set, else environment variable if set, else `fallback`.
absl::StatusOr<int> IntSetting(int flag_value, const char* variable,
                               int fallback) {
  if (flag_value >= 0) return flag_value;
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return fallback;
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", variable, "=\"", text,
                     "\" is not a non-negative integer"));
  }
  return value;
}

}  // namespace

absl::StatusOr<WorldInfo> WorldInfoFromEnvironment() {
  WorldInfo world;
  absl::StatusOr<int> rank = IntSetting(absl::GetFlag(FLAGS_rank), "RANK", 0);
  if (!rank.ok()) return rank.status();
  absl::StatusOr<int> size =
      IntSetting(absl::GetFlag(FLAGS_world_size), "WORLD_SIZE", 1);
  if (!size.ok()) return size.status();
  absl::StatusOr<int> local =
      IntSetting(absl::GetFlag(FLAGS_local_rank), "LOCAL_RANK", *rank);
  if (!local.ok()) return local.status();
  absl::StatusOr<int> port =
      IntSetting(absl::GetFlag(FLAGS_master_port), "MASTER_PORT", 29500);
  if (!port.ok()) return port.status();
  world.rank = *rank;
  world.world_size = *size;
  world.local_rank = *local;
  world.master_port = *port;

  std::string addr = absl::GetFlag(FLAGS_master_addr);
  if (addr.empty()) {
    const char* text = std::getenv("MASTER_ADDR");
    if (text != nullptr && *text != '\0') addr = text;
  }
  if (!addr.empty()) world.master_addr = addr;

  if (world.world_size < 1) {
    return absl::InvalidArgumentError("WORLD_SIZE must be at least 1");
  }
  if (world.rank >= world.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RANK ", world.rank, " is not below WORLD_SIZE ", world.world_size));
  }
  if (world.master_port < 1 || world.master_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("MASTER_PORT ", world.master_port, " is not a TCP port"));
  }
  return world;
}

}  // namespace vit_moe::distributed
