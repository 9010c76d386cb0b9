#include "attn/model/fused_attention.h"

#include <ATen/Parallel.h>

#include <atomic>

#include "attn/kernels/flash_kernels.h"

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

template <typename F>
void parallel(int64_t tasks, F&& f) {
  at::parallel_for(0, tasks, 1, [&](int64_t begin, int64_t end) { f(begin, end); });
}

// The key padding mask travels as a plain argument: autograd Functions reject undefined tensors.
struct MaskArg {
  torch::Tensor mask;  // bool (B, Tk) or undefined
};

struct FusedAttentionFunction : public torch::autograd::Function<FusedAttentionFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q_in,
                               const torch::Tensor& k_in, const torch::Tensor& v_in, const MaskArg& mask_in,
                               double beta, bool causal, bool hard, bool straight_through) {
    const auto q = last_axis_contiguous(q_in), k = last_axis_contiguous(k_in), v = last_axis_contiguous(v_in);
    const auto mask = mask_in.mask.defined() ? mask_in.mask.contiguous() : mask_in.mask;
    const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Dv = v.size(3);
    const bool soft_stats = !hard || straight_through;
    const auto o = q.options();
    auto out = empty_heads(B, H, Tq, Dv, o);                               // (B, H, Tq, Dv)
    torch::Tensor out_soft = hard && soft_stats ? torch::empty({B, H, Tq, Dv}, o) : torch::Tensor();
    torch::Tensor lse = soft_stats ? torch::empty({B, H, Tq}, o) : torch::Tensor();               // (B, H, Tq)
    torch::Tensor argmax = hard ? torch::empty({B, H, Tq}, o.dtype(torch::kLong)) : torch::Tensor();  // (B, H, Tq)
    AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "fused_attention_forward", [&] {
      auto p = problem<scalar_t>(q, k, v, mask, beta, causal, hard, soft_stats);
      p.out = view4<scalar_t>(out);
      if (out_soft.defined()) p.out_soft = view4<scalar_t>(out_soft);
      if (lse.defined()) p.lse = lse.data_ptr<scalar_t>();
      if (argmax.defined()) p.argmax = argmax.data_ptr<int64_t>();
      const auto& kern = kernels::flash_kernels<scalar_t>();
      parallel(B * H * p.q_tiles, [&](int64_t b, int64_t e) { kern.forward(p, b, e); });
    });
    ctx->save_for_backward({q, k, v, hard ? out_soft : out, lse, argmax, mask});
    ctx->saved_data["beta"] = beta;
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["hard"] = hard;
    ctx->saved_data["soft_stats"] = soft_stats;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2], &o = saved[3], &lse = saved[4], &argmax = saved[5],
               &mask = saved[6];
    const double beta = ctx->saved_data["beta"].toDouble();
    const bool causal = ctx->saved_data["causal"].toBool(), hard = ctx->saved_data["hard"].toBool(),
               soft_stats = ctx->saved_data["soft_stats"].toBool();
    const auto dout = last_axis_contiguous(grads[0]);                      // (B, H, Tq, Dv)
    const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2), D = q.size(3), Dv = v.size(3);
    const auto opts = q.options();
    auto dq = empty_heads(B, H, Tq, D, opts), dk = empty_heads(B, H, Tk, D, opts),
         dv = empty_heads(B, H, Tk, Dv, opts);
    AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "fused_attention_backward", [&] {
      auto p = problem<scalar_t>(q, k, v, mask, beta, causal, hard, soft_stats);
      if (o.defined()) (hard ? p.out_soft : p.out) = view4<scalar_t>(o);  // the soft output
      if (lse.defined()) p.lse = lse.data_ptr<scalar_t>();
      if (argmax.defined()) p.argmax = argmax.data_ptr<int64_t>();
      p.dout = view4<const scalar_t>(dout);
      p.dq = view4<scalar_t>(dq), p.dk = view4<scalar_t>(dk), p.dv = view4<scalar_t>(dv);
      torch::Tensor drow;
      if (soft_stats) {
        drow = torch::empty({B, H, Tq}, opts);                             // (B, H, Tq)
        p.drow = drow.data_ptr<scalar_t>();
      }
      const auto& kern = kernels::flash_kernels<scalar_t>();
      if (soft_stats) parallel(B * H * p.q_tiles, [&](int64_t b, int64_t e) { kern.backward_prepare(p, b, e); });
      auto scheme = backward_scheme.load();
      if (scheme == FusedBackward::Auto)  // one task per (batch, head) while that keeps every thread busy
        scheme = B * H >= 2 * at::get_num_threads() ? FusedBackward::PerHead : FusedBackward::Split;
      if (scheme == FusedBackward::PerHead) {
        parallel(B * H, [&](int64_t b, int64_t e) { kern.backward_fused(p, b, e); });
      } else {
        parallel(B * H * p.k_tiles, [&](int64_t b, int64_t e) { kern.backward_dkdv(p, b, e); });
        parallel(B * H * p.q_tiles, [&](int64_t b, int64_t e) { kern.backward_dq(p, b, e); });
      }
    });
    if (!soft_stats) dq = torch::Tensor(), dk = torch::Tensor();  // hard, no gradient through weights
    return {dq, dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool fused_attention_applies(const torch::Tensor& q, const AttentionOptions& options) {
  return options.kernel() == AttentionKernel::Fused && q.device().is_cpu() &&
         (q.scalar_type() == torch::kFloat || q.scalar_type() == torch::kDouble) && !options.need_weights() &&
         options.dropout() == 0;
}

torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& key_padding_mask, double beta, const AttentionOptions& options) {
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
              "attention: q, k, v must have one dtype, got ", q.scalar_type(), ", ", k.scalar_type(), ", ",
              v.scalar_type());
  const bool hard = options.mode() == AttentionMode::Hard;
  const bool straight_through = options.hard_gradient() == HardGradient::StraightThrough;
  return FusedAttentionFunction::apply(q, k, v, MaskArg{key_padding_mask}, beta, options.causal(), hard, straight_through);
}

std::string fused_attention_isa() {
  const char* isa = "";
  kernels::flash_kernels<float>(&isa);
  return isa;
}

void set_fused_backward(FusedBackward scheme) { backward_scheme.store(scheme); }

}  // namespace attn
