// `attn eval`: a checkpoint on a split or on files of its own, as its task measures it.
#include <torch/torch.h>

#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "cli/command_line.h"
#include "cli/task_commands.h"

namespace attn {

int run_eval(const EvalRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  const KernelScope kernels(kernels_of(reader.header().config.model));  // as trained: model.*_kernel
  return commands_for(reader.header().config.task).eval(req, reader);
}

void add_eval_command(CommandLine& cli) {
  auto req = std::make_shared<EvalRequest>();
  auto* cmd = cli.app.add_subcommand("eval", "Evaluate a checkpoint: loss, accuracy, per-class precision/recall and "
                                             "confusion matrix (classifier); loss, perplexity, BLEU (seq2seq)");
  cmd->add_option("checkpoint", req->target, "Run directory (uses checkpoints/best.pt) or .pt file")->required();
  cmd->add_option("--data", req->data_path,
                  "Data path instead of the one in the checkpoint's config (seq2seq: a source file to translate)");
  cmd->add_option("--target", req->target_path, "seq2seq: the reference translations of --data");
  cmd->add_option("--hyps", req->hyps_path, "seq2seq: write the translations to this file");
  add_decode_options(cmd, req->decode);
  cmd->add_option("--split", req->split, "Split to evaluate")->check(CLI::IsMember({"valid", "test"}));
  cmd->add_option("--max-len", req->max_len,
                  "Classifier: cut inputs at this many tokens (default: the config's data.eval_max_len, "
                  "else data.max_len)")
      ->check(kPositive);
  add_model_options(cmd, req->attention, req->device, req->precision);
  cmd->add_flag("--json", req->json, "Print one JSON object");
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_eval(*req); }, /*computes=*/true);
}

}  // namespace attn
