#include "attn/io/optimizer_state.h"

#include <stdexcept>

namespace attn {

namespace {

std::string kind_of(torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer)) return "adamw";
  if (dynamic_cast<torch::optim::SGD*>(&optimizer)) return "sgd";
  throw std::invalid_argument("an optimizer attn does not save (neither AdamW nor SGD)");
}

// f(index, parameter) for every parameter, in the order of the groups.
template <class F>
void for_each_parameter(torch::optim::Optimizer& optimizer, F&& f) {
  int64_t i = 0;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) f(i++, p);
}

}  // namespace

std::string optimizer_state_tensors(torch::optim::Optimizer& optimizer, safetensors::Named& out) {
  const auto kind = kind_of(optimizer);
  auto& state = optimizer.state();
  for_each_parameter(optimizer, [&](int64_t i, const torch::Tensor& p) {
    const auto found = state.find(optimizer_state_key(p));
    if (found == state.end()) return;  // never stepped: no state yet
    const std::string key = "optimizer." + std::to_string(i) + ".";
    auto add = [&](const char* field, const torch::Tensor& t) {
      if (t.defined()) out.emplace_back(key + field, t);
    };
    if (auto* s = dynamic_cast<torch::optim::AdamWParamState*>(found->second.get())) {
      out.emplace_back(key + "step", torch::tensor(s->step(), torch::kLong));  // ()
      add("exp_avg", s->exp_avg());
      add("exp_avg_sq", s->exp_avg_sq());
      add("max_exp_avg_sq", s->max_exp_avg_sq());
    } else if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(found->second.get())) {
      add("momentum_buffer", s->momentum_buffer());
    }
  });
  return kind;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& kind, const safetensors::View& file) {
  const auto mine = kind_of(optimizer);
  if (kind != mine)
    throw std::invalid_argument("it holds " + kind + " state and the config's optimizer is " + mine);
  auto& state = optimizer.state();
  for_each_parameter(optimizer, [&](int64_t i, const torch::Tensor& p) {
    const std::string key = "optimizer." + std::to_string(i) + ".";
    auto get = [&](const char* field) -> torch::Tensor {
      if (!file.has(key + field)) return {};
      auto t = file.tensor(key + field);
      if (t.sizes() != p.sizes())
        throw std::invalid_argument(key + field + " does not have the shape of its parameter");
      return t.to(p.options());
    };
    state.erase(optimizer_state_key(p));
    if (mine == "adamw") {
      if (!file.has(key + "step")) return;
      const auto step = file.tensor(key + "step");
      if (step.numel() != 1 || step.scalar_type() != torch::kLong) throw std::invalid_argument(key + "step is not one integer");
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(step.item<int64_t>());
      s->exp_avg(get("exp_avg"));
      s->exp_avg_sq(get("exp_avg_sq"));
      s->max_exp_avg_sq(get("max_exp_avg_sq"));
      if (!s->exp_avg().defined() || !s->exp_avg_sq().defined())
        throw std::invalid_argument(key + "exp_avg or exp_avg_sq is missing");
      state[optimizer_state_key(p)] = std::move(s);
    } else {
      auto buffer = get("momentum_buffer");
      if (!buffer.defined()) return;
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(buffer);
      state[optimizer_state_key(p)] = std::move(s);
    }
  });
}

void move_state_to_parameters(torch::optim::Optimizer& optimizer) {
  auto& state = optimizer.state();
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) {
      auto found = state.find(optimizer_state_key(p));
      if (found == state.end()) continue;
      auto to = [&](const torch::Tensor& t) { return t.defined() ? t.to(p.device()) : t; };
      if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(found->second.get())) {
        adamw->exp_avg(to(adamw->exp_avg()));
        adamw->exp_avg_sq(to(adamw->exp_avg_sq()));
        adamw->max_exp_avg_sq(to(adamw->max_exp_avg_sq()));
      } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(found->second.get())) {
        sgd->momentum_buffer(to(sgd->momentum_buffer()));
      }
    }
}

}  // namespace attn
