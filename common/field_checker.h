// Validation of config and thresholds fields, with one message format for
// every stage and config kind:
//   "<source>: <prefix><field> must be in [0, 1) (got 1.5)"
// A FieldChecker keeps the first violation and skips later checks, so a
// config with several mistakes names the first in field order.
#ifndef VIT_MOE_COMMON_FIELD_CHECKER_H_
#define VIT_MOE_COMMON_FIELD_CHECKER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

class FieldChecker {
 public:
  // `prefix` goes before every field name ("model.", "augment."); `source`
  // (a file, a flag) before the whole message when not empty.
  explicit FieldChecker(std::string prefix = "", std::string source = "");

  // The general form: fails with "<field> <rule> (got <got>)" unless `ok`.
  void Require(bool ok, absl::string_view field, absl::string_view rule,
               absl::string_view got);
  // A proto3 `optional` field the resolved config must hold.
  void RequireSet(bool has, absl::string_view field);
  void RequireSet(const std::string& value, absl::string_view field);

  // Finite and within the bounds; NaN fails every check.
  void Positive(double value, absl::string_view field);
  void NonNegative(double value, absl::string_view field);
  void AtLeast(double value, double min, absl::string_view field);
  void AtMost(double value, double max, absl::string_view field);
  // [low, high] or [low, high).
  void InRange(double value, double low, double high, absl::string_view field);
  void InHalfOpenRange(double value, double low, double high,
                       absl::string_view field);

  bool ok() const { return status_.ok(); }
  // InvalidArgument with the first violation, or OK.
  const absl::Status& status() const { return status_; }

 private:
  std::string prefix_;
  std::string source_;
  absl::Status status_;
};

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_FIELD_CHECKER_H_
