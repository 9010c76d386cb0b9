// `attn plot RUN [RUN...] [--metric loss,accuracy,bleu,lr] [--out FILE.png|svg]`: training and
// validation curves against the step, several runs overlaid. Torch-free.
#include <filesystem>
#include <iostream>

#include "attn/core/errors.h"
#include "attn/draw/training_curves.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace attn {

namespace fs = std::filesystem;

int run_plot(const PlotRequest& req) {
  std::vector<RunMetrics> runs;
  for (const auto& run : req.runs) runs.push_back(read_run_metrics(run));
  std::string out = req.out;
  if (out.empty()) {
    std::error_code ec;
    if (runs.size() > 1 || !fs::is_directory(req.runs.front(), ec))
      throw UsageError("--out FILE.png (or .svg) is needed: the curves of one run directory go into it as "
                       "curves.png, those of several runs or a metrics file go where you say");
    out = (fs::path(req.runs.front()) / "curves.png").string();
  }
  const FigureFormat format = figure_format_of(out);
  const auto metrics = req.metrics.empty() ? default_curve_metrics(runs) : req.metrics;
  for (const auto& run : runs)
    if (run.records.empty()) std::cerr << "attn plot: " << run.name << " has no records yet\n";
  std::string title = "training curves";
  if (runs.size() == 1) title += ": " + runs.front().name;
  const auto figure = training_curves(runs, metrics, title);
  for (const auto& panel : figure.panels)
    if (panel.curves.empty())
      std::cerr << "attn plot: no train or valid record holds '" << panel.y_label << "'; its panel stays empty\n";
  draw_line_charts(figure, format, out);
  std::cout << out << "\n";
  return 0;
}

void add_plot_command(CommandLine& cli) {
  auto req = std::make_shared<PlotRequest>();
  auto* cmd = cli.app.add_subcommand("plot", "Training and validation curves of one or more runs against the "
                                             "step, as a PNG or SVG (several runs overlaid)");
  cmd->add_option("runs", req->runs, "Run directories (or metrics.jsonl files)")->required();
  cmd->add_option("--metric", req->metrics, "The panels, comma-separated: loss, accuracy, bleu, lr, "
                                            "perplexity, ... (default: those of loss, accuracy, bleu, lr "
                                            "that the runs recorded)")
      ->delimiter(',');
  cmd->add_option("--out", req->out, "FILE.png or FILE.svg (default for one run: RUN/curves.png)");
  cli.add(cmd, [req] { return run_plot(*req); });
}

}  // namespace attn
