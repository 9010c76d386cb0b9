// `attn show`: a checkpoint's attention maps for one or more inputs, written as a self-contained
// HTML page that opens in a browser (cli/attention_page.h), as pictures (attn/draw/attention_figures.h)
// or as the maps in JSON.
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "attn/core/atomic_file.h"
#include "attn/draw/attention_figures.h"
#include "attn/infer/attention_maps.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/model/build.h"
#include "attn/model/multi_head_attention.h"
#include "attn/runtime/runtime.h"
#include "cli/attention_page.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/task_commands.h"

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
  const auto texts = read_inputs(req.input);
  if (texts.empty()) throw DataError(req.input + ": no input to show (one text per line; empty lines are skipped)");
  const Config& cfg = reader.header().config;
  const KernelScope kernels(kernels_of(cfg.model));
  set_threads(cfg.threads);
  set_precision(req.precision.empty() ? cfg.precision : parse<Precision>(req.precision));
  const AttentionMode attention = req.attention.empty() ? cfg.model.attention : parse<AttentionMode>(req.attention);
  const size_t count = std::min(texts.size(), static_cast<size_t>(req.limit));
  const std::vector<std::string> chosen(texts.begin(), texts.begin() + static_cast<std::ptrdiff_t>(count));
  const auto shown = commands_for(cfg.task).show(req, reader, chosen, attention);
  const auto doc = attention_maps_json(reader.path(), reader.header(), attention, shown);

  const std::string out = req.out.empty() ? default_out(req.target) : req.out;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw DataError(out + ": cannot create the output folder (" + ec.message() + ")");
  std::vector<std::string> written;
  if (req.format == "png" || req.format == "svg") {
    AttentionFigureOptions options;
    options.format = req.format == "png" ? FigureFormat::Png : FigureFormat::Svg;
    options.layer = req.layer;
    options.head = req.head;
    written = write_attention_figures(doc, out, options);
  } else {
    if (req.layer || req.head) throw UsageError("--layer and --head choose pictures: use them with --format png or svg");
    written.push_back((fs::path(out) / (req.format == "json" ? "attention.json" : "attention.html")).string());
    write_file_atomically(written.back(), req.format == "json" ? doc.dump() + "\n" : attention_page(doc));
  }
  if (count < texts.size())
    std::cerr << "attn show: the first " << count << " of " << texts.size() << " inputs (--limit)\n";
  for (const auto& path : written) std::cout << path << "\n";
  return 0;
}

void add_show_command(CommandLine& cli) {
  auto req = std::make_shared<ShowRequest>();
  auto* cmd = cli.app.add_subcommand("show", "Attention maps of a checkpoint for some inputs, as a page that "
                                             "opens in a browser or as pictures: every layer and head, labelled "
                                             "with the tokens");
  cmd->add_option("checkpoint", req->target, "Run directory or .pt file")->required();
  cmd->add_option("input", req->input, "A text, a file of texts (one per line), or - for standard input")->required();
  cmd->add_option("--out", req->out, "Output folder (default: RUN/show, or NAME-show beside a .pt file)");
  cmd->add_option("--format", req->format,
                  "html: one page of every map; png or svg: a picture per map (the heads of a layer side by "
                  "side) and the alignment of a translation; json: the maps alone")
      ->capture_default_str()->check(CLI::IsMember({"html", "png", "svg", "json"}));
  cmd->add_option("--layer", req->layer, "png/svg: only this layer (1 = the first; the pooling map is "
                                         "always drawn)")->check(kPositive);
  cmd->add_option("--head", req->head, "png/svg: only this head (1 = the first), drawn larger")->check(kPositive);
  cmd->add_option("--limit", req->limit, "Show at most this many inputs")->capture_default_str()->check(kPositive);
  cmd->add_option("--beam", req->beam, "seq2seq: beam size of the translation shown, 1 = greedy "
                                       "(default: decode.beam_size)")
      ->check(kPositive)->default_str("config");
  add_model_options(cmd, req->attention, req->device, req->precision);
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_show(*req); }, /*computes=*/true);
}

}  // namespace attn
