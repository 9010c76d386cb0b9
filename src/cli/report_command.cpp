// `attn report RUN [--out FILE]`: one self-contained report.html of a run (nothing fetched when it
// opens): its results (best validation and test), the training curves, the confusion matrix
// (classifiers) or sample translations with their BLEU (seq2seq), examples, an attention explorer
// for a few test inputs, and the config.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "attn/core/atomic_file.h"
#include "attn/data/seq2seq/text_codec.h"
#include "attn/draw/heatmap.h"
#include "attn/draw/training_curves.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/io/checkpoint_reader.h"
#include "attn/model/build.h"
#include "attn/runtime/runtime.h"
#include "cli/attention_page.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/task_commands.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kReportStyle = R"CSS(
table.results { border-collapse: collapse; margin: 8px 0; }
table.results th, table.results td { border-bottom: 1px solid #e4e4e4; padding: 4px 10px; text-align: left; font-size: 13px; }
table.results td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.results tr.wrong td { background: #fff4f2; }
img.figure { max-width: 100%; border: 1px solid #eee; }
pre.config { background: #f7f7f7; padding: 10px; font-size: 12px; overflow-x: auto; }
)CSS";

std::string svg_image(const std::string& svg, const std::string& alt, const std::string& cls = "figure") {
  return "<img class=\"" + cls + "\" alt=\"" + escape_html(alt) + "\" src=\"data:image/svg+xml;base64," +
         base64_encode(svg) + "\">\n";
}

std::string number(double v, int decimals = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Best validation (best.pt's) beside the test record, a row per metric the test record holds
// (or the validation's, when the run had no test split).
std::string results_table(const json& valid, const json* test) {
  std::string html = "<table class=\"results\"><tr><th>metric</th><th>best validation</th>";
  if (test) html += "<th>test</th>";
  html += "</tr>\n";
  for (const auto& [key, value] : (test ? *test : valid).items()) {
    if (!value.is_number() || key == "step" || key == "time" || key == "seconds" || key == "count" ||
        key == "epoch" || key == "decode_seconds")
      continue;
    html += "<tr><td>" + escape_html(key) + "</td><td class=\"num\">" +
            (valid.contains(key) && valid[key].is_number() ? number(valid[key].get<double>()) : "") + "</td>";
    if (test) html += "<td class=\"num\">" + number(value.get<double>()) + "</td>";
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

// The confusion matrix: a heatmap of each true class's row as shares (its recall on the
// diagonal), and the counts with precision and recall in a table.
std::string confusion_section(const json& metrics) {
  const auto labels = metrics.at("labels").get<std::vector<std::string>>();
  const auto counts = metrics.at("confusion").get<std::vector<std::vector<int64_t>>>();
  HeatmapPanel panel{"rows: true class, columns: predicted", labels, labels, {}};
  for (const auto& row : counts) {
    int64_t total = 0;
    for (auto n : row) total += n;
    for (auto n : row) panel.weights.push_back(total ? double(n) / double(total) : 0.0);
  }
  std::string html;
  if (labels.size() <= 60)
    html += svg_image(render_heatmaps({"confusion matrix", "each row's share of its true class", {panel}},
                                      FigureFormat::Svg),
                      "confusion matrix");
  html += "<table class=\"results\"><tr><th>true \\ predicted</th>";
  for (const auto& l : labels) html += "<th>" + escape_html(l) + "</th>";
  html += "<th>precision</th><th>recall</th></tr>\n";
  const auto& per_class = metrics.value("per_class", json::object());
  for (size_t i = 0; i < labels.size(); ++i) {
    html += "<tr><td>" + escape_html(labels[i]) + "</td>";
    for (auto n : counts[i]) html += "<td class=\"num\">" + std::to_string(n) + "</td>";
    const auto& c = per_class.value(labels[i], json::object());
    html += "<td class=\"num\">" + number(c.value("precision", 0.0)) + "</td><td class=\"num\">" +
            number(c.value("recall", 0.0)) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

std::string examples_table(const json& part, bool seq2seq) {
  std::string html = "<table class=\"results examples\"><tr><th>input</th><th>" +
                     std::string(seq2seq ? "reference</th><th>translation</th><th>sentence BLEU" :
                                           "true label</th><th>predicted</th><th>probability") +
                     "</th></tr>\n";
  for (const auto& e : part.at("examples")) {
    const bool wrong = e.value("reference", "") != e.value("output", "");
    html += std::string("<tr") + (wrong && !seq2seq ? " class=\"wrong\"" : "") + "><td>" +
            escape_html(shorten(e.value("text", ""), 300)) + "</td><td>" + escape_html(e.value("reference", "")) +
            "</td><td>" + escape_html(e.value("output", "")) + "</td><td class=\"num\">" +
            number(e.value("score", 0.0), seq2seq ? 1 : 4) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

}  // namespace

int run_report(const ReportRequest& req) {
  std::error_code ec;
  if (!fs::is_directory(req.run, ec))
    throw UsageError(req.run + ": not a run directory; attn report reads a run's metrics.jsonl and its best.pt");
  CheckpointReader reader(resolve_checkpoint_path(req.run));
  const auto& header = reader.header();
  const Config& cfg = header.config;
  const TaskCommands& task = commands_for(cfg.task);
  const bool seq2seq = task.translates();
  const KernelScope kernels(kernels_of(cfg.model));
  set_threads(cfg.threads);
  set_precision(cfg.precision);
  const std::vector<RunMetrics> runs = {read_run_metrics(req.run)};
  const json* test = nullptr;
  for (const auto& r : runs[0].records)
    if (r.value("kind", "") == "test") test = &r;
  const json part = task.report(req, reader);

  const std::string name = runs[0].name;
  std::string html = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>attn report: " +
                     escape_html(name) + "</title>\n<style>" + attention_style() + kReportStyle +
                     "</style>\n</head>\n<body>\n";
  html += "<h1>Run report: " + escape_html(name) + "</h1>\n<p class=\"meta\">" + escape_html(to_string(cfg.task)) +
          " &middot; best checkpoint at step " + std::to_string(header.state.best_step) + " of " +
          std::to_string(header.state.step) + " (by validation " + escape_html(to_string(cfg.train.metric)) +
          ") &middot; attn " + escape_html(header.attn_version) + "</p>\n";
  html += "<h2 id=\"results\">Results</h2>\n" + results_table(header.metrics, test);
  html += "<h2 id=\"curves\">Training curves</h2>\n" +
          svg_image(render_line_charts(training_curves(runs, default_curve_metrics(runs), "training curves: " + name),
                                       FigureFormat::Svg),
                    "training curves");
  const std::string split = part.value("split", "test");
  if (part.contains("metrics"))
    html += "<h2 id=\"confusion\">Confusion matrix (" + split + " split, " +
            std::to_string(part["metrics"].value("count", 0)) + " examples)</h2>\n" + confusion_section(part["metrics"]);
  const std::string beam = seq2seq ? ", beam " + std::to_string(part.value("beam_size", 1)) : "";
  html += "<h2 id=\"examples\">" + std::string(seq2seq ? "Sample translations" : "Examples") +
          " (the first of the " + split + " split" + beam + ")</h2>\n" + examples_table(part, seq2seq);
  html += "<h2 id=\"attention\">Attention</h2>\n<p class=\"hint\">" + std::string(attention_hint()) + "</p>\n" +
          attention_explorer(part.at("attention"));
  html += "<h2 id=\"config\">Config</h2>\n<pre class=\"config\">" + escape_html(to_json(cfg).dump(2)) +
          "</pre>\n</body>\n</html>\n";

  const std::string out = req.out.empty() ? (fs::path(req.run) / "report.html").string() : req.out;
  write_file_atomically(out, html);
  std::cout << out << "\n";
  return 0;
}

void add_report_command(CommandLine& cli) {
  auto req = std::make_shared<ReportRequest>();
  auto* cmd = cli.app.add_subcommand("report", "One self-contained report.html of a run: results, training "
                                               "curves, confusion matrix or sample translations, examples, an "
                                               "attention explorer, the config");
  cmd->add_option("run", req->run, "Run directory")->required();
  cmd->add_option("--out", req->out, "Output file (default: RUN/report.html)");
  cmd->add_option("--samples", req->samples, "Examples (sample translations) listed")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--inputs", req->inputs, "Inputs in the attention explorer")->capture_default_str()->check(kPositive);
  cmd->add_option("--device", req->device, "cpu, cuda or cuda:N (default: the run's config)");
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_report(*req); });
}

}  // namespace attn
