// `attn predict`: one input per line of a file or standard input, one output line each.
#include <torch/torch.h>

#include <fstream>
#include <iostream>

#include "attn/core/utf8.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "cli/task_commands.h"

namespace attn {

void for_each_input_line(const std::string& input,
                         const std::function<void(const std::string& line, const std::string& where)>& f) {
  std::ifstream file;
  if (input != "-") {
    file.open(input, std::ios::binary);
    if (!file) throw DataError(input + ": cannot read the file (check it exists and is readable)");
  }
  std::istream& in = input == "-" ? std::cin : file;
  const std::string source = input == "-" ? "stdin" : input;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = source + ":" + std::to_string(number);
    size_t at = 0;
    if (!valid_utf8(line, &at)) throw DataError(where + ": invalid UTF-8 at byte " + std::to_string(at));
    f(line, where);
  }
}

int run_predict(const PredictRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  const KernelScope kernels(kernels_of(reader.header().config.model));  // as trained: model.*_kernel
  return commands_for(reader.header().config.task).predict(req, reader);
}

}  // namespace attn
