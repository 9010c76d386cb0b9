// `attn train`: a run from a config, and its one-line JSON summary.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/task_kinds.h"

namespace attn {

using nlohmann::json;

int run_train(const TrainRequest& request) {
  TrainRequest req = request;
  req.make_task = task_of_config();
  req.load_model = model_of_checkpoint();
  auto r = train(req);
  if (r.interrupted) return 128 + r.interrupted;  // 130 for SIGINT, 143 for SIGTERM, as shells report
  if (r.rank != 0) return 0;                      // rank 0 reports for the job
  json summary = {{"out", r.out_dir}, {"best_checkpoint", r.best_checkpoint}, {"steps", r.steps},
                  {"seconds", r.seconds}, {"valid_accuracy", r.best_valid.value("accuracy", 0.0)}};
  if (!r.test.is_null()) summary["test_accuracy"] = r.test["accuracy"];
  if (!r.averaged_test.is_null()) summary["averaged_test_accuracy"] = r.averaged_test["accuracy"];
  std::cout << summary.dump() << "\n";
  return 0;
}

void add_train_command(CommandLine& cli) {
  auto req = std::make_shared<TrainRequest>();
  auto* cmd = cli.app.add_subcommand("train", "Train a model from a JSON config (default: the built-in set task)");
  cmd->add_option("config", req->config_path, "Config file (see `attn config defaults`)")->check(CLI::ExistingFile);
  cmd->add_option("--set", req->overrides, "Override a config key: key.path=value (repeatable)");
  cmd->add_option("--out", req->out_dir, "Run directory (default: runs/<config name>)");
  cmd->add_flag("--resume", req->resume, "Continue the run in --out from its newest checkpoint");
  cmd->add_flag("--force", req->force, "Move an existing run directory aside (to DIR.bak-TIME) and start anew");
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_train(*req); }, /*computes=*/true);
}

}  // namespace attn
