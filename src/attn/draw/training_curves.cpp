#include "attn/draw/training_curves.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "attn/core/errors.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;

RunMetrics read_run_metrics(const std::string& run_or_file) {
  std::error_code ec;
  const bool dir = fs::is_directory(run_or_file, ec);
  const std::string path = dir ? (fs::path(run_or_file) / "metrics.jsonl").string() : run_or_file;
  std::ifstream in(path);
  if (!in)
    throw DataError(path + ": cannot read it; give a run directory (it holds metrics.jsonl) or a metrics.jsonl file");
  RunMetrics run{dir ? fs::path(run_or_file).lexically_normal().string() : path, {}};
  if (!run.name.empty() && run.name.back() == '/') run.name.pop_back();
  std::string line, bad;
  size_t number = 0, bad_line = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (!bad.empty())  // a bad line followed by more: not a cut-off last line
      throw DataError(path + ":" + std::to_string(bad_line) + ": not a JSON record (" + bad + ")");
    try {
      auto j = json::parse(line);
      if (j.is_object()) run.records.push_back(std::move(j));
    } catch (const json::parse_error& e) {
      bad = e.what();
      bad_line = number;
    }
  }
  return run;
}

std::vector<std::string> default_curve_metrics(const std::vector<RunMetrics>& runs) {
  std::vector<std::string> out;
  for (const char* m : {"loss", "accuracy", "bleu", "lr"})
    for (const auto& run : runs)
      if (std::any_of(run.records.begin(), run.records.end(), [&](const json& r) {
            return r.contains(m) && r[m].is_number() && r.value("kind", "") != "test";
          })) {
        out.push_back(m);
        break;
      }
  return out;
}

ChartFigure training_curves(const std::vector<RunMetrics>& runs, const std::vector<std::string>& metrics,
                            const std::string& title) {
  ChartFigure fig{title, "step", {}};
  for (const auto& metric : metrics) {
    ChartPanel panel{metric, {}};
    for (size_t r = 0; r < runs.size(); ++r)
      for (const char* kind : {"train", "valid"}) {
        const bool valid = std::string(kind) == "valid";
        Curve c{runs.size() > 1 ? runs[r].name + (valid ? " (valid)" : " (train)") : (valid ? "validation" : "training"),
                static_cast<int>(r), valid, {}, {}};
        for (const auto& rec : runs[r].records)
          if (rec.value("kind", "") == kind && rec.contains(metric) && rec[metric].is_number() &&
              rec.contains("step") && rec["step"].is_number()) {
            c.x.push_back(rec["step"].get<double>());
            c.y.push_back(rec[metric].get<double>());
          }
        if (!c.x.empty()) panel.curves.push_back(std::move(c));
      }
    fig.panels.push_back(std::move(panel));
  }
  return fig;
}

}  // namespace attn
