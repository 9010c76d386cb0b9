// `attn bleu HYPS REFS... [--lowercase] [--json]`: corpus BLEU of line-aligned files, as the
// sacrebleu command computes it by default. Torch-free.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "attn/data/seq2seq/parallel_text.h"
#include "attn/metrics/bleu.h"
#include "attn/core/errors.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace attn {

int run_bleu(const BleuRequest& req) {
  const auto hyps = read_lines(req.hypotheses);
  std::vector<std::vector<std::string>> refs;
  for (const auto& path : req.references) {
    refs.push_back(read_lines(path));
    if (refs.back().size() != hyps.size())
      throw DataError(req.hypotheses + " has " + std::to_string(hyps.size()) + " lines but " + path + " has " +
                      std::to_string(refs.back().size()) + "; the files must be line-aligned");
  }
  const auto s = corpus_bleu(hyps, refs, BleuOptions{req.lowercase});
  if (req.json) {
    std::cout << nlohmann::json{{"name", "BLEU"},
                                {"score", s.score},
                                {"precisions", s.precisions},
                                {"brevity_penalty", s.brevity_penalty},
                                {"ratio", s.ref_len ? double(s.hyp_len) / double(s.ref_len) : 0.0},
                                {"hyp_len", s.hyp_len},
                                {"ref_len", s.ref_len},
                                {"lowercase", req.lowercase},
                                {"tokenize", "13a"},
                                {"smooth", "exp"},
                                {"text", s.to_string()}}
                     .dump()
              << "\n";
  } else {
    std::cout << s.to_string() << "\n";
  }
  return 0;
}

void add_bleu_command(CommandLine& cli) {
  auto req = std::make_shared<BleuRequest>();
  auto* cmd = cli.app.add_subcommand("bleu", "Corpus BLEU of line-aligned files, as sacreBLEU's default "
                                             "(13a tokenization, exp smoothing, case-sensitive)");
  cmd->add_option("hypotheses", req->hypotheses, "System output, one sentence per line (.gz works; - = stdin)")
      ->required();
  cmd->add_option("references", req->references, "Reference file(s), line-aligned with the hypotheses")->required();
  cmd->add_flag("--lowercase,-l", req->lowercase, "Lower-case both sides first (sacreBLEU -lc)");
  cmd->add_flag("--json", req->json, "Print one JSON object");
  cli.add(cmd, [req] { return run_bleu(*req); });
}

}  // namespace attn
