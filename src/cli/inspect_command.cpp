// `attn inspect`: what a checkpoint holds: config, sizes, step, metrics, versions, checksum.
#include <torch/torch.h>

#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "cli/command_line.h"
#include "cli/task_commands.h"

namespace attn {

int run_inspect(const InspectRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  return commands_for(reader.header().config.task).inspect(req, reader);
}

void add_inspect_command(CommandLine& cli) {
  auto req = std::make_shared<InspectRequest>();
  auto* cmd = cli.app.add_subcommand("inspect", "Show a checkpoint: config, sizes, step, metrics, versions");
  cmd->add_option("checkpoint", req->target, "Run directory or .pt file")->required();
  cmd->add_flag("--json", req->json, "Print one JSON object");
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_inspect(*req); });
}

}  // namespace attn
