#include "attn/infer/average.h"

#include <torch/torch.h>

#include <map>
#include <memory>

#include "attn/infer/checkpoint_model.h"
#include "attn/io/checkpoint.h"
#include "attn/io/checkpoint_reader.h"

namespace attn {

namespace {

struct Loaded {
  CheckpointHeader header;
  std::shared_ptr<torch::nn::Module> model;  // on the CPU
};

Loaded load(const std::string& path, const ModelLoader& load_model) {
  CheckpointReader reader(path);
  return {reader.header(), load_model(reader, "cpu")};
}

// The model's parameters and buffers by name.
std::map<std::string, torch::Tensor> state(torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : model.named_parameters()) out[p.key()] = p.value();
  for (const auto& b : model.named_buffers()) out[b.key()] = b.value();
  return out;
}

// Why `b` is not a checkpoint of the model `a` is, or "" when it is.
std::string difference(const CheckpointHeader& a, const CheckpointHeader& b) {
  if (a.config.task != b.config.task) return "the task (" + to_string(a.config.task) + " / " + to_string(b.config.task) + ")";
  const auto ma = to_json(a.config)["model"], mb = to_json(b.config)["model"];
  for (const auto& [key, value] : ma.items()) {
    const bool kernel = key.size() >= 7 && key.compare(key.size() - 7, 7, "_kernel") == 0;  // the same model either way
    if (!kernel && (!mb.contains(key) || mb[key] != value))
      return "model." + key + " (" + value.dump() + " / " + (mb.contains(key) ? mb[key].dump() : "absent") + ")";
  }
  if (a.vocab != b.vocab) return "the vocabulary";
  if (a.labels != b.labels) return "the labels";
  if (a.codecs != b.codecs) return "the text codecs (vocabulary)";
  return "";
}

}  // namespace

AverageResult average_checkpoints(const std::vector<std::string>& inputs, const std::string& out,
                                  const ModelLoader& load_model) {
  if (inputs.size() < 2)
    throw CheckpointError("averaging needs two checkpoints or more, got " + std::to_string(inputs.size()));
  torch::NoGradGuard no_grad;
  auto first = load(inputs[0], load_model);
  auto target = state(*first.model);
  std::map<std::string, torch::Tensor> sums;
  for (const auto& [name, t] : target)
    if (t.is_floating_point()) sums[name] = t.to(torch::kFloat64);
  CheckpointHeader newest = first.header;
  std::vector<int64_t> steps = {first.header.state.step};
  for (size_t i = 1; i < inputs.size(); ++i) {
    auto other = load(inputs[i], load_model);
    const auto why = difference(first.header, other.header);
    if (!why.empty())
      throw CheckpointError(inputs[i] + ": not a checkpoint of the model in " + inputs[0] + ": " + why +
                            " differs; average checkpoints of one run (or of one config)");
    for (const auto& [name, t] : state(*other.model)) {
      if (sums.count(name)) sums[name] += t.to(torch::kFloat64);
      else if (!torch::equal(t, target.at(name)))
        throw CheckpointError(inputs[i] + ": its " + name + " (not a weight: integers) differs from " + inputs[0] + "'s");
    }
    steps.push_back(other.header.state.step);
    if (other.header.state.step > newest.state.step) newest = other.header;
  }
  const double n = static_cast<double>(inputs.size());
  for (auto& [name, sum] : sums) target.at(name).copy_(sum / n);
  newest.metrics = {{"averaged_from", inputs}, {"steps", steps}};
  save_checkpoint(out, newest, *first.model, nullptr);
  return {out, inputs, newest.state.step, static_cast<int64_t>(sums.size())};
}

}  // namespace attn
