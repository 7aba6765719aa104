#pragma once
// The load test's HTML report: one self-contained file (inline CSS and SVG charts; no script,
// font, image or stylesheet from anywhere else) that a contact-center planner can read: the
// summary tables, and charts of queue depth over time, waits as a distribution, service level
// per interval, occupancy per group, how decisions were spread across agents and the engine's
// decision latency, each with a caption saying what it shows and how the figure is defined.
// docs/load-testing.md, "Report", describes it.
//
// The compare variant puts two runs of the same scenario under two routing configurations side
// by side: every table gets a column per run (and the difference), every chart a series per run.
//
// A drive-mode run (results.mode "drive") is described as one: its latency is the corrected one
// (receipt minus intended send), the simulator's figures are left out, and given drive mode's own
// figures (DriveFigures, tools/loadtest/drive.hpp) the report has a section of them: rates,
// corrected and uncorrected latency, send lag, the ramp's steps and the highest rate sustained.
//
// The output is a pure function of the results (no dates, no host names): two reports of the same
// results are byte-identical. Thread safety: reentrant; the results are only read.

#include <ostream>
#include <string>

#include "switchboard/loadtest/results.hpp"

namespace switchboard::loadtest {

struct DriveFigures;  // tools/loadtest/drive.hpp

void write_html_report(const LoadTestResults& results, std::ostream& out);
// `drive` (may be null) is drive mode's own figures of the same run.
void write_html_report(const LoadTestResults& results, const DriveFigures* drive, std::ostream& out);

// One run of a comparison: what to call it in the report ("A: highest capacity") and its results.
struct LabelledResults {
  std::string label;
  const LoadTestResults* results = nullptr;  // not owned; must outlive the call
};

void write_html_comparison(const LabelledResults& a, const LabelledResults& b, std::ostream& out);

}  // namespace switchboard::loadtest
