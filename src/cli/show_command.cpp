// `attn show`: a checkpoint's attention maps for one or more inputs, written as a self-contained
// HTML page that opens in a browser (cli/attention_page.h) and as the same maps in JSON.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "attn/core/atomic_file.h"
#include "attn/infer/attention_maps.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "attn/model/multi_head_attention.h"
#include "attn/runtime/runtime.h"
#include "cli/attention_page.h"
#include "cli/commands.h"

namespace attn {

namespace fs = std::filesystem;

namespace {

// The inputs: "-" is standard input and an existing file is read a line at a time (as predict
// reads them); anything else is the text itself.
std::vector<std::string> read_inputs(const std::string& input) {
  std::vector<std::string> texts;
  std::error_code ec;
  if (input == "-" || fs::exists(input, ec))
    for_each_input_line(input, [&](const std::string& line, const std::string&) {
      if (!line.empty()) texts.push_back(line);
    });
  else
    texts.push_back(input);
  return texts;
}

// RUN/show for a run directory, NAME-show beside a checkpoint file.
std::string default_out(const std::string& target) {
  std::error_code ec;
  if (fs::is_directory(target, ec)) return (fs::path(target) / "show").string();
  const fs::path file(target);
  return (file.parent_path() / (file.stem().string() + "-show")).string();
}

}  // namespace

int run_show(const ShowRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  if (reader.header().config.task == "seq2seq")
    throw UsageError("attn show draws set classifiers' attention so far; " + req.target +
                     " is a seq2seq checkpoint (its maps: not yet)");
  const auto texts = read_inputs(req.input);
  if (texts.empty()) throw DataError(req.input + ": no input to show (one text per line; empty lines are skipped)");
  const KernelScope kernels(kernels_of(reader.header().config.model));
  auto m = load_checkpoint_model(reader, req.device);
  set_threads(m.header.config.threads);
  const std::string attention = req.attention.empty() ? m.header.config.model.attention : req.attention;
  set_attention_mode(*m.model, parse<AttentionMode>(attention));

  const size_t count = std::min(texts.size(), static_cast<size_t>(req.limit));
  std::vector<ShownInput> shown;
  for (size_t i = 0; i < count; ++i) shown.push_back(show_classifier_input(m, texts[i]));
  const auto doc = attention_maps_json(m, attention, shown);

  const std::string out = req.out.empty() ? default_out(req.target) : req.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw DataError(out + ": cannot create the output folder (" + ec.message() + ")");
  const std::string path = (fs::path(out) / (req.format == "json" ? "attention.json" : "attention.html")).string();
  write_file_atomically(path, req.format == "json" ? doc.dump() + "\n" : attention_page(doc));
  if (count < texts.size())
    std::cerr << "attn show: the first " << count << " of " << texts.size() << " inputs (--limit)\n";
  std::cout << path << "\n";
  return 0;
}

}  // namespace attn
