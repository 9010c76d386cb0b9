// `attn inspect`: what a checkpoint holds: config, sizes, step, metrics, versions, checksum.
#include <torch/torch.h>

#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "cli/task_commands.h"

namespace attn {

int run_inspect(const InspectRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  return commands_for(reader.header().config.task).inspect(req, reader);
}

}  // namespace attn
