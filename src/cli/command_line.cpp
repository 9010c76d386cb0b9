#include "cli/command_line.h"

#include "attn/io/checkpoint_reader.h"
#include "attn/kernels/blas_core.h"

namespace attn {

namespace {

CLI::Validator number_check(const char* words, bool (*ok)(double)) {
  return CLI::Validator(
      [words, ok](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return "must be a number; got " + text.substr(0, 40);
        return ok(v) ? std::string() : std::string("must be ") + words + "; got " + text.substr(0, 40);
      },
      words, words);
}

}  // namespace

const CLI::Validator kPositive = number_check("positive", [](double v) { return v > 0; });
const CLI::Validator kNonNegative = number_check("0 or more", [](double v) { return v >= 0; });

void CommandLine::add(CLI::App* cmd, std::function<int()> run, bool computes) {
  entries_.push_back({cmd, std::move(run), computes});
}

void CommandLine::add_trust_flag(CLI::App* cmd) {
  cmd->add_flag("--trust-checkpoint", trust_checkpoint_,
                "Open a checkpoint in the TorchScript archive format of older attn versions "
                "(reading one runs code stored in it: only for files you trust)");
}

int CommandLine::run(char** argv) const {
  trust_archive_checkpoints(trust_checkpoint_);
  for (const auto& e : entries_) {
    if (!*e.cmd) continue;
    // This may re-execute attn once (OpenBLAS picks its kernels as it loads), before anything
    // is read or written.
    if (e.computes) kernels::use_best_blas_core(argv);
    return e.run();
  }
  return 0;
}

void add_model_options(CLI::App* cmd, std::string& attention, std::string& device, std::string& precision) {
  cmd->add_option("--attention", attention, "Run with soft or hard attention (default: as trained)")
      ->check(CLI::IsMember(choice_names<AttentionMode>()));
  cmd->add_option("--device", device, "Device (default: the checkpoint's)");
  cmd->add_option("--precision", precision, "The large products' arithmetic: fp32 | bf16 (default: the checkpoint's)")
      ->check(CLI::IsMember(choice_names<Precision>()));
}

void add_decode_options(CLI::App* cmd, DecodeFlags& f) {
  cmd->add_option("--beam", f.beam, "seq2seq: beam size, 1 = greedy (default: decode.beam_size)")
      ->check(kPositive)->default_str("config");
  cmd->add_option("--length-penalty", f.length_penalty, "seq2seq: score = log p / length^this (default: config)")
      ->check(kNonNegative)->default_str("config");
  cmd->add_option("--max-len-a", f.max_len_a, "seq2seq: output at most a * source length + b tokens (default: config)")
      ->check(kNonNegative)->default_str("config");
  cmd->add_option("--max-len-b", f.max_len_b, "seq2seq: see --max-len-a (default: config)")
      ->check(kPositive)->default_str("config");
}

}  // namespace attn
