#include "attn/model/multi_head_attention.h"

#include <algorithm>

#include "attn/model/attention_record.h"
#include "attn/ops/blocked_linear.h"

namespace attn {

MultiHeadAttentionOptions::MultiHeadAttentionOptions(int64_t d_model, int64_t num_heads)
    : d_model_(d_model), num_heads_(num_heads) {}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(MultiHeadAttentionOptions options_) : options(std::move(options_)) {
  reset();
}

void MultiHeadAttentionImpl::reset() {
  const int64_t d_model = options.d_model(), heads = options.num_heads();
  TORCH_CHECK(d_model > 0, "MultiHeadAttention: d_model must be positive, got ", d_model);
  TORCH_CHECK(heads > 0, "MultiHeadAttention: num_heads must be positive, got ", heads);
  TORCH_CHECK(d_model % heads == 0, "MultiHeadAttention: d_model (", d_model,
              ") must be divisible by num_heads (", heads, ")");
  const int64_t dq = options.d_query_in().value_or(d_model);
  const int64_t dk = options.d_key_in().value_or(d_model);
  const int64_t dv = options.d_value_in().value_or(d_model);
  TORCH_CHECK(dq > 0 && dk > 0 && dv > 0,
              "MultiHeadAttention: input widths must be positive, got d_query_in=", dq,
              " d_key_in=", dk, " d_value_in=", dv);
  TORCH_CHECK(options.dropout() >= 0 && options.dropout() < 1,
              "MultiHeadAttention: dropout must be in [0, 1), got ", options.dropout());
  d_k = d_model / heads;
  using torch::nn::LinearOptions;
  W_q = register_module("W_q", torch::nn::Linear(LinearOptions(dq, d_model).bias(false)));
  W_k = register_module("W_k", torch::nn::Linear(LinearOptions(dk, d_model).bias(false)));
  W_v = register_module("W_v", torch::nn::Linear(LinearOptions(dv, d_model).bias(false)));
  W_h = register_module("W_h", torch::nn::Linear(LinearOptions(d_model, d_model)));
}

MultiHeadAttentionOutput MultiHeadAttentionImpl::forward(const torch::Tensor& xq,
                                                         const torch::Tensor& xk,
                                                         const torch::Tensor& xv,
                                                         const torch::Tensor& key_padding_mask,
                                                         bool causal, bool need_weights) {
  TORCH_CHECK(xq.dim() == 3 && xk.dim() == 3 && xv.dim() == 3,
              "MultiHeadAttention expects (B, T, D) inputs, got ", xq.sizes(), ", ", xk.sizes(),
              ", ", xv.sizes());
  const int64_t B = xq.size(0), Tq = xq.size(1), H = options.num_heads();
  AttentionRecord* record = AttentionRecord::active();  // attn show: keep the weights too
  if (record) need_weights = true;

  const auto how = AttentionOptions()
                       .mode(options.mode())
                       .beta(options.beta())
                       .hard_gradient(options.hard_gradient())
                       .causal(causal)
                       .dropout(is_training() ? options.dropout() : 0.0)
                       .need_weights(need_weights);
  AttentionOutput att;
  if (xq.is_same(xk) && xk.is_same(xv) && W_q->weight.size(1) == W_k->weight.size(1) &&
      W_k->weight.size(1) == W_v->weight.size(1)) {
    // Self-attention: the lecture's stacked tall matrix, one product gives q, k and v.
    auto w = torch::cat({W_q->weight, W_k->weight, W_v->weight});         // (3D, D_in)
    att = packed_self_attention(linear_layer(xq, w), H, key_padding_mask, how);  // qkv (B, T, 3D)
  } else {
    const auto kv = project_kv(xk, xv);                                   // (B, H, Tk, Dk) each
    att = scaled_dot_product_attention(project_q(xq), kv.k, kv.v, key_padding_mask, how);
  }
  if (record) record->add(this, att.a);                                    // (B, H, Tq, Tk)
  auto h = att.h.transpose(1, 2).contiguous().view({B, Tq, H * d_k});     // (B, Tq, D)
  return {linear_layer(h, W_h->weight, W_h->bias), att.a};                // (B, Tq, D)
}

void KeyValues::append(const KeyValues& more) {
  const int64_t have = k.defined() ? k.size(2) : 0, T = more.k.size(2);
  if (!k_room.defined() || have + T > k_room.size(2)) {  // room for twice as many (64 at first)
    const int64_t capacity = std::max<int64_t>(64, 2 * (have + T));
    auto grow = [&](const torch::Tensor& old, const torch::Tensor& like) {
      auto room = torch::empty({like.size(0), like.size(1), capacity, like.size(3)}, like.options());  // (B, H, C, Dk)
      if (have > 0) room.narrow(2, 0, have).copy_(old);
      return room;
    };
    k_room = grow(k, more.k), v_room = grow(v, more.v);
  }
  k_room.narrow(2, have, T).copy_(more.k);
  v_room.narrow(2, have, T).copy_(more.v);
  k = k_room.narrow(2, 0, have + T);                                       // (B, H, Tk + T, Dk)
  v = v_room.narrow(2, 0, have + T);
}

KeyValues KeyValues::select(const torch::Tensor& index) const {
  if (!k_room.defined()) return {k.index_select(0, index), v.index_select(0, index), {}, {}};  // (B', H, Tk, Dk)
  KeyValues out;
  out.k_room = k_room.index_select(0, index), out.v_room = v_room.index_select(0, index);  // (B', H, C, Dk)
  out.k = out.k_room.narrow(2, 0, k.size(2)), out.v = out.v_room.narrow(2, 0, v.size(2));
  return out;
}

KeyValues MultiHeadAttentionImpl::project_kv(const torch::Tensor& xk, const torch::Tensor& xv) {
  const int64_t B = xk.size(0), Tk = xk.size(1), H = options.num_heads();
  auto split = [&](const torch::Tensor& x) {
    return x.view({B, Tk, H, d_k}).transpose(1, 2);                        // (B, H, Tk, Dk)
  };
  if (xk.is_same(xv)) {  // keys and values of one memory: one product with [W_k; W_v] stacked
    const int64_t D = W_k->weight.size(0);
    auto kv = linear_layer(xk, torch::cat({W_k->weight, W_v->weight}));   // (B, Tk, 2D)
    return {split(kv.narrow(2, 0, D)), split(kv.narrow(2, D, D)), {}, {}};  // no room kept
  }
  return {split(linear_layer(xk, W_k->weight)), split(linear_layer(xv, W_v->weight)), {}, {}};
}

torch::Tensor MultiHeadAttentionImpl::project_q(const torch::Tensor& xq) {
  const int64_t B = xq.size(0), Tq = xq.size(1), H = options.num_heads();
  return linear_layer(xq, W_q->weight).view({B, Tq, H, d_k}).transpose(1, 2);  // (B, H, Tq, Dk)
}

torch::Tensor MultiHeadAttentionImpl::attend(const torch::Tensor& xq, const KeyValues& kv,
                                             const torch::Tensor& key_padding_mask) {
  const int64_t B = xq.size(0), Tq = xq.size(1), H = options.num_heads();
  auto att = scaled_dot_product_attention(
      project_q(xq), kv.k, kv.v, key_padding_mask,
      AttentionOptions()
          .mode(options.mode())
          .beta(options.beta())
          .hard_gradient(options.hard_gradient())
          .dropout(is_training() ? options.dropout() : 0.0));
  auto h = att.h.transpose(1, 2).contiguous().view({B, Tq, H * d_k});     // (B, Tq, D)
  return linear_layer(h, W_h->weight, W_h->bias);                          // (B, Tq, D)
}

namespace {

// Each MultiHeadAttention inside `model`, and whether its place is one of `places`.
template <class F>
void each_attention(torch::nn::Module& model, const std::vector<AttentionPlace>& places, F f) {
  for (const auto& m : model.modules(/*include_self=*/true))
    if (auto* mha = m->as<MultiHeadAttentionImpl>())
      f(*mha, std::find(places.begin(), places.end(), mha->options.place()) != places.end());
}

}  // namespace

int64_t set_attention_mode(torch::nn::Module& model, AttentionMode mode) {
  return set_attention_mode(model, mode, choice_values<AttentionPlace>());
}

int64_t set_attention_mode(torch::nn::Module& model, AttentionMode mode, const std::vector<AttentionPlace>& places) {
  int64_t changed = 0;
  each_attention(model, places, [&](MultiHeadAttentionImpl& mha, bool here) {
    mha.options.mode(here ? mode : AttentionMode::Soft);
    changed += here;
  });
  return changed;
}

void set_attention_beta(torch::nn::Module& model, std::optional<double> beta, const std::vector<AttentionPlace>& places) {
  each_attention(model, places, [&](MultiHeadAttentionImpl& mha, bool here) {
    if (here) mha.options.beta(beta);
  });
}

}  // namespace attn
