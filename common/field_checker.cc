#include "common/field_checker.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace vit_moe {

FieldChecker::FieldChecker(std::string prefix, std::string source)
    : prefix_(std::move(prefix)), source_(std::move(source)) {}

void FieldChecker::Require(bool ok, absl::string_view field,
                           absl::string_view rule, absl::string_view got) {
  if (ok || !status_.ok()) return;
  status_ = absl::InvalidArgumentError(
      absl::StrCat(source_, source_.empty() ? "" : ": ", prefix_, field, " ",
                   rule, " (got ", got, ")"));
}

void FieldChecker::RequireSet(bool has, absl::string_view field) {
  Require(has, field, "must be set", "nothing");
}

void FieldChecker::RequireSet(const std::string& value,
                              absl::string_view field) {
  Require(!value.empty(), field, "must be set", "empty");
}

void FieldChecker::Positive(double value, absl::string_view field) {
  Require(std::isfinite(value) && value > 0, field, "must be > 0",
          absl::StrCat(value));
}

void FieldChecker::NonNegative(double value, absl::string_view field) {
  Require(std::isfinite(value) && value >= 0, field, "must be >= 0",
          absl::StrCat(value));
}

void FieldChecker::AtLeast(double value, double min, absl::string_view field) {
  Require(std::isfinite(value) && value >= min, field,
          absl::StrCat("must be >= ", min), absl::StrCat(value));
}

void FieldChecker::AtMost(double value, double max, absl::string_view field) {
  Require(std::isfinite(value) && value <= max, field,
          absl::StrCat("must be <= ", max), absl::StrCat(value));
}

void FieldChecker::InRange(double value, double low, double high,
                           absl::string_view field) {
  Require(std::isfinite(value) && value >= low && value <= high, field,
          absl::StrCat("must be in [", low, ", ", high, "]"),
          absl::StrCat(value));
}

void FieldChecker::InHalfOpenRange(double value, double low, double high,
                                   absl::string_view field) {
  Require(std::isfinite(value) && value >= low && value < high, field,
          absl::StrCat("must be in [", low, ", ", high, ")"),
          absl::StrCat(value));
}

}  // namespace vit_moe
