// Status propagation macros. This Abseil (20220623) ships none, so the
// project defines the two it needs, in the spirit of Google's internal ones.
#ifndef VIT_MOE_COMMON_STATUS_MACROS_H_
#define VIT_MOE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VM_STATUS_CONCAT_INNER_(a, b) a##b
#define VM_STATUS_CONCAT_(a, b) VM_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` yields a non-OK Status.
#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::absl::Status vm_status_ = (expr);      \
    if (!vm_status_.ok()) return vm_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F())` declares x from a StatusOr, or returns its
// error from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(VM_STATUS_CONCAT_(vm_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // VIT_MOE_COMMON_STATUS_MACROS_H_
