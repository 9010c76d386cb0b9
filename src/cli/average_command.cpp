// `attn average INPUT... [--last N] [--out FILE] [--force]`: a checkpoint whose weights are the
// mean of the inputs' (attn/infer/average.h). `attn average runs/x --last 5` averages the run's
// five newest step checkpoints into runs/x/checkpoints/averaged.pt, which eval, predict, show,
// export and report open as any checkpoint.
#include <filesystem>
#include <iostream>

#include "attn/infer/average.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/io/checkpoint.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/task_kinds.h"

namespace attn {

namespace fs = std::filesystem;

int run_average(const AverageRequest& req) {
  std::error_code ec;
  const bool one_run = req.inputs.size() == 1 && fs::is_directory(req.inputs[0], ec);
  std::vector<std::string> inputs;
  if (req.last > 0) {
    if (!one_run)
      throw UsageError("--last N takes one run directory (its newest N step checkpoints), got " +
                       std::to_string(req.inputs.size()) + " input(s)" +
                       (req.inputs.size() == 1 ? ", not a directory: " + req.inputs[0] : ""));
    const auto all = list_step_checkpoints((fs::path(req.inputs[0]) / "checkpoints").string());
    if (static_cast<int64_t>(all.size()) < req.last)
      throw UsageError(req.inputs[0] + " has " + std::to_string(all.size()) + " step checkpoint(s), --last asks for " +
                       std::to_string(req.last) + " (train.keep_last sets how many a run keeps)");
    inputs.assign(all.rbegin() + static_cast<long>(all.size() - req.last), all.rend());  // oldest first
  } else {
    for (const auto& input : req.inputs) inputs.push_back(resolve_checkpoint_path(input));
  }
  std::string out = req.out;
  if (out.empty()) {
    if (!one_run) throw UsageError("give --out FILE (the default, RUN/checkpoints/averaged.pt, needs one run directory)");
    out = (fs::path(req.inputs[0]) / "checkpoints" / "averaged.pt").string();
  }
  for (const auto& input : inputs)
    if (fs::equivalent(input, out, ec))
      throw UsageError(out + " is one of the inputs; attn average writes a new file (give another --out)");
  if (!req.force && fs::exists(out, ec))
    throw UsageError(out + " exists; attn average does not replace a file (remove it, give --out, or --force)");
  const auto r = average_checkpoints(inputs, out, model_of_checkpoint());
  std::cout << r.path << "\n";
  std::cerr << "attn average: " << r.tensors << " tensors, the mean of " << r.inputs.size()
            << " checkpoints (the header of step " << r.step << "):";
  for (const auto& input : r.inputs) std::cerr << " " << input;
  std::cerr << "\n";
  return 0;
}

void add_average_command(CommandLine& cli) {
  auto req = std::make_shared<AverageRequest>();
  auto* cmd = cli.app.add_subcommand("average", "A checkpoint whose weights are the mean of several checkpoints "
                                                "of one model (the last few of a run)");
  cmd->add_option("inputs", req->inputs, "Checkpoint files or run directories (their best.pt)")->required();
  cmd->add_option("--last", req->last, "The newest N step checkpoints of the one run directory given")
      ->check(kPositive);
  cmd->add_option("--out", req->out, "The new checkpoint (default with one run directory: "
                                     "RUN/checkpoints/averaged.pt)");
  cmd->add_flag("--force", req->force, "Replace an existing file");
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_average(*req); });
}

}  // namespace attn
