// `attn eval`: a checkpoint on a split or on files of its own, as its task measures it.
#include <torch/torch.h>

#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "cli/task_commands.h"

namespace attn {

int run_eval(const EvalRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  const KernelScope kernels(kernels_of(reader.header().config.model));  // as trained: model.*_kernel
  return commands_for(reader.header().config.task).eval(req, reader);
}

}  // namespace attn
