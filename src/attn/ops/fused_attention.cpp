#include "attn/ops/fused_attention.h"

#include <atomic>

#include "attn/kernels/flash_kernels.h"
#include "attn/kernels/row_loops.h"
#include "attn/ops/cpu_kernels.h"
#include "attn/ops/kernel_choice.h"
#include "attn/ops/parallel_guided.h"

namespace attn {

namespace {

std::atomic<FusedBackward> backward_scheme{FusedBackward::Auto};

template <typename T>
kernels::View4<T> view4(const torch::Tensor& x) {  // x (B, H, T, D) with a contiguous last axis
  return {x.data_ptr<std::remove_const_t<T>>(), x.stride(0), x.stride(1), x.stride(2)};
}

// A (B, H, T, D) tensor whose memory is laid out (B, T, H, D): the heads join without a copy.
torch::Tensor empty_heads(int64_t B, int64_t H, int64_t T, int64_t D, const torch::TensorOptions& o) {
  return torch::empty({B, T, H, D}, o).permute({0, 2, 1, 3});             // (B, H, T, D)
}

torch::Tensor last_axis_contiguous(const torch::Tensor& x) { return x.stride(-1) == 1 ? x : x.contiguous(); }

template <typename T>
kernels::FlashProblem<T> problem(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& mask, double beta, bool causal, bool hard, bool soft_stats) {
  kernels::FlashProblem<T> p;
  p.B = q.size(0), p.H = q.size(1), p.Tq = q.size(2), p.Tk = k.size(2), p.D = q.size(3), p.Dv = v.size(3);
  p.beta = static_cast<T>(beta);
  p.causal = causal;
  p.key_padding = mask.defined() ? mask.data_ptr<bool>() : nullptr;
  p.hard = hard;
  p.soft_stats = soft_stats;
  p.q = view4<const T>(q), p.k = view4<const T>(k), p.v = view4<const T>(v);
  kernels::plan_tiles(p);
  return p;
}

// The key padding mask travels as a plain argument: autograd Functions reject undefined tensors.
struct MaskArg {
  torch::Tensor mask;  // bool (B, Tk) or undefined
};

// The flags of one call, saved for backward.
struct Flags {
  double beta;
  bool causal, hard, soft_stats;
};

struct ForwardResult {
  torch::Tensor out;       // (B, H, Tq, Dv), a view of a (B, Tq, H, Dv) buffer
  torch::Tensor out_soft;  // hard + soft_stats: the softargmax output
  torch::Tensor lse;       // soft_stats: (B, H, Tq)
  torch::Tensor argmax;    // hard: (B, H, Tq)
};

// q, k, v (B, H, T, D) with a contiguous last axis; mask bool (B, Tk) contiguous or undefined.
ForwardResult run_forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const torch::Tensor& mask, const Flags& f) {
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Dv = v.size(3);
  const auto o = q.options();
  ForwardResult r;
  r.out = empty_heads(B, H, Tq, Dv, o);                                    // (B, H, Tq, Dv)
  if (f.hard && f.soft_stats) r.out_soft = torch::empty({B, H, Tq, Dv}, o);
  if (f.soft_stats) r.lse = torch::empty({B, H, Tq}, o);                   // (B, H, Tq)
  if (f.hard) r.argmax = torch::empty({B, H, Tq}, o.dtype(torch::kLong));  // (B, H, Tq)
  AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "fused_attention_forward", [&] {
    auto p = problem<scalar_t>(q, k, v, mask, f.beta, f.causal, f.hard, f.soft_stats);
    p.out = view4<scalar_t>(r.out);
    if (r.out_soft.defined()) p.out_soft = view4<scalar_t>(r.out_soft);
    if (r.lse.defined()) p.lse = r.lse.data_ptr<scalar_t>();
    if (r.argmax.defined()) p.argmax = r.argmax.data_ptr<int64_t>();
    const auto& kern = kernels::flash_kernels<scalar_t>();
    parallel_guided(B * H * p.q_tiles, [&](int64_t b, int64_t e) { kern.forward(p, b, e); });
  });
  return r;
}

// Writes dq, dk, dv (views with a contiguous last axis; every element is written). o is the
// soft output (out, or out_soft for hard attention).
void run_backward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& o,
                  const torch::Tensor& lse, const torch::Tensor& argmax, const torch::Tensor& mask,
                  const torch::Tensor& dout, const Flags& f, torch::Tensor& dq, torch::Tensor& dk,
                  torch::Tensor& dv) {
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2);
  AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "fused_attention_backward", [&] {
    auto p = problem<scalar_t>(q, k, v, mask, f.beta, f.causal, f.hard, f.soft_stats);
    if (o.defined()) (f.hard ? p.out_soft : p.out) = view4<scalar_t>(o);
    if (lse.defined()) p.lse = lse.data_ptr<scalar_t>();
    if (argmax.defined()) p.argmax = argmax.data_ptr<int64_t>();
    p.dout = view4<const scalar_t>(dout);
    p.skip_zero_rows = kernels::skip_zero_gradient_rows();
    p.dq = view4<scalar_t>(dq), p.dk = view4<scalar_t>(dk), p.dv = view4<scalar_t>(dv);
    torch::Tensor drow;
    if (f.soft_stats) {
      drow = torch::empty({B, H, Tq}, q.options());                        // (B, H, Tq)
      p.drow = drow.data_ptr<scalar_t>();
    }
    const auto& kern = kernels::flash_kernels<scalar_t>();
    auto scheme = backward_scheme.load();
    if (scheme == FusedBackward::Auto)  // one task per (batch, head) while that keeps every thread busy
      scheme = B * H >= 2 * at::get_num_threads() ? FusedBackward::PerHead : FusedBackward::Split;
    if (scheme == FusedBackward::PerHead) {
      parallel_guided(B * H, [&](int64_t b, int64_t e) { kern.backward_fused(p, b, e); });
    } else {
      if (f.soft_stats)
        parallel_guided(B * H * p.q_tiles, [&](int64_t b, int64_t e) { kern.backward_prepare(p, b, e); });
      parallel_guided(B * H * p.k_tiles, [&](int64_t b, int64_t e) { kern.backward_dkdv(p, b, e); });
      parallel_guided(B * H * p.q_tiles, [&](int64_t b, int64_t e) { kern.backward_dq(p, b, e); });
    }
  });
}

void save(torch::autograd::AutogradContext* ctx, const Flags& f) {
  ctx->saved_data["beta"] = f.beta;
  ctx->saved_data["causal"] = f.causal;
  ctx->saved_data["hard"] = f.hard;
  ctx->saved_data["soft_stats"] = f.soft_stats;
}

Flags saved_flags(torch::autograd::AutogradContext* ctx) {
  return {ctx->saved_data["beta"].toDouble(), ctx->saved_data["causal"].toBool(), ctx->saved_data["hard"].toBool(),
          ctx->saved_data["soft_stats"].toBool()};
}

struct FusedAttentionFunction : public torch::autograd::Function<FusedAttentionFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q_in,
                               const torch::Tensor& k_in, const torch::Tensor& v_in, const MaskArg& mask_in,
                               double beta, bool causal, bool hard, bool straight_through) {
    const auto q = last_axis_contiguous(q_in), k = last_axis_contiguous(k_in), v = last_axis_contiguous(v_in);
    const auto mask = mask_in.mask.defined() ? mask_in.mask.contiguous() : mask_in.mask;
    const Flags f{beta, causal, hard, !hard || straight_through};
    auto r = run_forward(q, k, v, mask, f);
    ctx->save_for_backward({q, k, v, hard ? r.out_soft : r.out, r.lse, r.argmax, mask});
    save(ctx, f);
    return r.out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2];
    const auto f = saved_flags(ctx);
    const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2), D = q.size(3), Dv = v.size(3);
    const auto opts = q.options();
    auto dq = empty_heads(B, H, Tq, D, opts), dk = empty_heads(B, H, Tk, D, opts),
         dv = empty_heads(B, H, Tk, Dv, opts);
    run_backward(q, k, v, saved[3], saved[4], saved[5], saved[6], last_axis_contiguous(grads[0]), f, dq, dk, dv);
    if (!f.soft_stats) dq = torch::Tensor(), dk = torch::Tensor();  // hard, no gradient through weights
    return {dq, dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// Self-attention from the packed projection: its gradient comes back packed too, so the three
// projections' gradients need no concatenation.
struct FusedPackedAttentionFunction : public torch::autograd::Function<FusedPackedAttentionFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& qkv_in, int64_t heads,
                               const MaskArg& mask_in, double beta, bool causal, bool hard, bool straight_through) {
    const auto qkv = qkv_in.contiguous();                                  // (B, T, 3D)
    const auto mask = mask_in.mask.defined() ? mask_in.mask.contiguous() : mask_in.mask;
    const auto [q, k, v] = packed_heads(qkv, heads);
    const Flags f{beta, causal, hard, !hard || straight_through};
    auto r = run_forward(q, k, v, mask, f);
    ctx->save_for_backward({qkv, hard ? r.out_soft : r.out, r.lse, r.argmax, mask});
    ctx->saved_data["heads"] = heads;
    save(ctx, f);
    return r.out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& qkv = saved[0];
    const int64_t heads = ctx->saved_data["heads"].toInt();
    const auto f = saved_flags(ctx);
    const auto [q, k, v] = packed_heads(qkv, heads);
    auto dqkv = torch::empty_like(qkv);                                    // (B, T, 3D)
    auto [dq, dk, dv] = packed_heads(dqkv, heads);
    run_backward(q, k, v, saved[1], saved[2], saved[3], saved[4], last_axis_contiguous(grads[0]), f, dq, dk, dv);
    if (!f.soft_stats) dqkv.narrow(2, 0, 2 * (qkv.size(2) / 3)).zero_();  // hard: no gradient through weights
    return {dqkv, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::array<torch::Tensor, 3> packed_heads(const torch::Tensor& qkv, int64_t heads) {
  const int64_t B = qkv.size(0), T = qkv.size(1), D = qkv.size(2) / 3;
  std::array<torch::Tensor, 3> out;
  for (int64_t i = 0; i < 3; ++i)
    out[i] = qkv.narrow(2, i * D, D).view({B, T, heads, D / heads}).transpose(1, 2);  // (B, H, T, Dk)
  return out;
}

bool fused_attention_applies(const torch::Tensor& q, bool need_weights, double dropout) {
  return kernel_choice().attention == Kernel::Fused && cpu_kernels_take(q) && !need_weights && dropout == 0;
}

torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& key_padding_mask, double beta, bool causal, AttentionMode mode,
                              HardGradient hard_gradient) {
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
              "attention: q, k, v must have one dtype, got ", q.scalar_type(), ", ", k.scalar_type(), ", ",
              v.scalar_type());
  return FusedAttentionFunction::apply(q, k, v, MaskArg{key_padding_mask}, beta, causal, mode == AttentionMode::Hard,
                                       hard_gradient == HardGradient::StraightThrough);
}

torch::Tensor fused_self_attention(const torch::Tensor& qkv, int64_t heads, const torch::Tensor& key_padding_mask,
                                   double beta, bool causal, AttentionMode mode, HardGradient hard_gradient) {
  return FusedPackedAttentionFunction::apply(qkv, heads, MaskArg{key_padding_mask}, beta, causal,
                                             mode == AttentionMode::Hard,
                                             hard_gradient == HardGradient::StraightThrough);
}

std::string fused_attention_isa() { return kernels::isa_name(kernels::kernel_isa()); }

void set_fused_backward(FusedBackward scheme) { backward_scheme.store(scheme); }

}  // namespace attn
