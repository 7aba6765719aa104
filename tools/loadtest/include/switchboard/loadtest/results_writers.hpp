#pragma once
// Writers of LoadTestResults for machines and people: JSON (every figure, nested as in
// results.hpp), CSV (the same figures, one row per value), and the summary table printed at the
// end of a run. The HTML report is html_report.hpp's.
//
// Pure functions of the results; reentrant.

#include <optional>
#include <string>

#include "switchboard/loadtest/results.hpp"
#include "switchboard/result.hpp"

namespace switchboard::loadtest {

// The results as one JSON document (two-space indented). NaN figures are null.
[[nodiscard]] std::string results_to_json(const LoadTestResults& results);

// The results as CSV with the header `scope,name,figure,index,value,half_width,unit`: one row per
// scalar figure; distributions and series as one row per element (`index` is the element's
// position, `name` says which bucket or sample). Fields with commas or quotes are quoted.
[[nodiscard]] std::string results_to_csv(const LoadTestResults& results);

// The summary table (plain text, fixed width, ends with a newline).
[[nodiscard]] std::string summary_table(const LoadTestResults& results);

// Writes `text` to `path` (replacing it); an error names the path and the reason.
[[nodiscard]] std::optional<Error> write_text_file(const std::string& path, const std::string& text);

}  // namespace switchboard::loadtest
