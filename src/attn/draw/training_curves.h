// Training curves of one or more runs from their metrics.jsonl: a panel per metric, each run in
// its colour, training records solid and validation records dashed. `attn plot` draws them and
// every run writes RUN/curves.png at its end. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attn/draw/line_chart.h"

namespace attn {

struct RunMetrics {
  std::string name;                   ///< how the legend calls the run (its directory)
  std::vector<nlohmann::json> records;  ///< metrics.jsonl, a record per line
};

/// RUN/metrics.jsonl (or the file itself) read a record per line. A last line cut short by a kill
/// is skipped; a DataError names the file when there is none, or a line in the middle is not JSON.
RunMetrics read_run_metrics(const std::string& run_or_file);

/// The metrics worth a panel by default, in this order: loss, accuracy, bleu, lr (the ones any
/// train or valid record of `runs` holds).
std::vector<std::string> default_curve_metrics(const std::vector<RunMetrics>& runs);

/// The chart: a panel per metric of `metrics` against the step; train records solid, valid
/// records dashed; a run's curves share its colour.
ChartFigure training_curves(const std::vector<RunMetrics>& runs, const std::vector<std::string>& metrics,
                            const std::string& title);

}  // namespace attn
