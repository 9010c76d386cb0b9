// `attn predict`: one input per line of a file or standard input, one output line each.
#include <torch/torch.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "attn/core/utf8.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "cli/command_line.h"
#include "cli/task_commands.h"

namespace attn {

void for_each_input_line(const std::string& input,
                         const std::function<void(const std::string& line, const std::string& where)>& f) {
  std::ifstream file;
  if (input != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec))
      throw DataError(input + ": is a directory; give a text file with one input per line (or - for standard input)");
    if (std::filesystem::is_character_file(input, ec)) {  // a terminal reads lines; /dev/zero and the like do not
      const int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
      const bool tty = fd >= 0 && ::isatty(fd);
      if (fd >= 0) ::close(fd);
      if (!tty) throw DataError(input + ": is a device, not a text file of inputs (one per line)");
    }
    file.open(input, std::ios::binary);
    if (!file) throw DataError(input + ": cannot read the file (check it exists and is readable)");
  }
  std::istream& in = input == "-" ? std::cin : file;
  const std::string source = input == "-" ? "stdin" : input;
  std::string line;
  size_t number = 1;
  for (; std::getline(in, line); ++number) {
    if (number == 1) strip_bom(line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = source + ":" + std::to_string(number);
    size_t at = 0;
    if (!valid_utf8(line, &at)) throw DataError(where + ": invalid UTF-8 at byte " + std::to_string(at));
    if (line.find('\0') != std::string::npos) throw DataError(where + ": holds a NUL byte; is this a text file?");
    f(line, where);
  }
  if (in.bad()) throw DataError(source + ": reading failed after " + std::to_string(number - 1) + " lines");
}

int run_predict(const PredictRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  const KernelScope kernels(kernels_of(reader.header().config.model));  // as trained: model.*_kernel
  return commands_for(reader.header().config.task).predict(req, reader);
}

void add_predict_command(CommandLine& cli) {
  auto req = std::make_shared<PredictRequest>();
  auto* cmd = cli.app.add_subcommand("predict", "One text per line: label and class probabilities (classifier), "
                                                "or its translation (seq2seq)");
  cmd->add_option("checkpoint", req->target, "Run directory or .pt file")->required();
  cmd->add_option("input", req->input, "Text file, one input per line; - for standard input; "
                                       "classifier: a FILE.tsv, .csv or .jsonl is a table of inputs");
  cmd->add_option("--text-column", req->text_column, "Table input: the text's column, a name or "
                                                     "0-based index (default: by name: text, "
                                                     "sentence, ...; else 0)");
  cmd->add_option("--id-column", req->id_column, "Table input: a column carried to each output line "
                                                 "first (default: by name: id, idx, index, ...)");
  cmd->add_option("--header", req->header, "Table input: is its first line a header")
      ->capture_default_str()->check(CLI::IsMember({"auto", "true", "false"}));
  add_model_options(cmd, req->attention, req->device, req->precision);
  add_decode_options(cmd, req->decode);
  cmd->add_flag("--json", req->json, "JSON lines instead of TSV (or plain text)");
  cmd->add_flag("--print-alignment", req->print_alignment,
                "seq2seq: after each translation a tab and its alignment, fairseq's 'S-T' pairs (source "
                "position S of target token T, by the last layer's cross-attention averaged over heads)");
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_predict(*req); }, /*computes=*/true);
}

}  // namespace attn
