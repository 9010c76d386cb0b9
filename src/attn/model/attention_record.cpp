#include "attn/model/attention_record.h"

#include <map>

#include "attn/model/multi_head_attention.h"

namespace attn {

namespace {
thread_local AttentionRecord* current = nullptr;
}

AttentionRecord::AttentionRecord() : previous_(current) { current = this; }

AttentionRecord::~AttentionRecord() { current = previous_; }

AttentionRecord* AttentionRecord::active() { return current; }

void AttentionRecord::add(const MultiHeadAttentionImpl* module, const torch::Tensor& weights) {
  maps_.emplace_back(module, weights.detach());
}

std::vector<RecordedAttention> AttentionRecord::named(const torch::nn::Module& model) const {
  std::map<const MultiHeadAttentionImpl*, std::string> names;
  for (const auto& item : model.named_modules("", /*include_self=*/false))
    if (const auto* mha = dynamic_cast<const MultiHeadAttentionImpl*>(item.value().get())) names[mha] = item.key();
  std::vector<RecordedAttention> out;
  for (const auto& [module, weights] : maps_) {
    const auto it = names.find(module);
    out.push_back({it == names.end() ? "?" : it->second, weights});
  }
  return out;
}

}  // namespace attn
