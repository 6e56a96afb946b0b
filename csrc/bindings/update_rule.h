// Checks shared by _core.UpdateRule.apply and _core.plan.Plan: which slots a rule
// reads, and one tensor's slot arrays.
#pragma once

#include <array>
#include <string>

#include "bindings/array_checks.h"
#include "nn/update.h"

namespace pydl::bind {

// Which of the 3 slots the rule reads (adam's vhat is optional: given = amsgrad).
void used_slots(const nn::OptimizerStep& rule, bool used[3]);

// Checks the 3 slot arrays of weight `w` (None where unused) and stores them in
// `out` (None where the rule reads none). `name` names the triple in messages.
void check_slots(const nn::UpdateRule& rule, const py::array& w, const py::handle& slots,
                 const std::string& name, std::array<py::object, 3>& out);

}  // namespace pydl::bind
