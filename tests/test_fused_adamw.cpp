// The one-pass AdamW (attn/train/fused_adamw.h) against LibTorch's torch::optim::AdamW: the
// same parameters and moments after several steps (with weight decay, changing learning rates
// and a parameter without gradient), in float64 and float32, and the same checkpoint state; the
// same bits from each instruction set's loop.
#include "attn/train/fused_adamw.h"
#include "attn/train/optimizer.h"

#include <sstream>

#include "attn/kernels/flash_kernels.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_fused_adamw {

using namespace attn;

namespace {

std::vector<torch::Tensor> random_params(torch::Dtype dtype) {
  const auto o = torch::TensorOptions().dtype(dtype);
  // A large one (split over threads), small ones, and one that never gets a gradient.
  return {torch::randn({1000, 37}, o).requires_grad_(), torch::randn({5}, o).requires_grad_(),
          torch::randn({3, 4}, o).requires_grad_(), torch::randn({7}, o).requires_grad_()};
}

std::vector<torch::Tensor> clones(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().requires_grad_());
  return out;
}

// Five steps with the same random gradients for both; the last parameter gets none.
void run_steps(torch::optim::Optimizer& opt, std::vector<torch::Tensor>& params, uint64_t seed) {
  torch::manual_seed(seed);
  for (int step = 0; step < 5; ++step) {
    for (auto& group : opt.param_groups()) group.options().set_lr(1e-2 * (1 + step));
    for (size_t i = 0; i + 1 < params.size(); ++i) params[i].mutable_grad() = torch::randn_like(params[i]);
    opt.step();
  }
}

using attn::test::relative_error;

}  // namespace

TEST_CASE("the one-pass AdamW matches LibTorch's AdamW: parameters and moments, float64 and float32",
          "[optimizer]") {
  attn::test::seed();
  for (const auto dtype : {torch::kFloat64, torch::kFloat32}) {
    auto theirs = random_params(dtype);
    auto ours = clones(theirs);
    const auto options = torch::optim::AdamWOptions(1e-2).betas({0.8, 0.95}).weight_decay(0.1);
    torch::optim::AdamW reference(theirs, options);
    FusedAdamW fused(ours, options);
    const uint64_t seed = Catch::rngSeed() + 1;
    run_steps(reference, theirs, seed);
    run_steps(fused, ours, seed);
    const double tolerance = dtype == torch::kFloat64 ? 1e-14 : 1e-6;
    INFO(dtype);
    for (size_t i = 0; i < ours.size(); ++i) {
      CHECK(relative_error(ours[i], theirs[i]) < tolerance);
      if (i + 1 == ours.size()) CHECK(torch::equal(ours[i], theirs[i]));  // no gradient: untouched
    }
    for (size_t i = 0; i + 1 < ours.size(); ++i) {
      const auto& a = static_cast<torch::optim::AdamWParamState&>(*fused.state().at(optimizer_state_key(ours[i])));
      const auto& b =
          static_cast<torch::optim::AdamWParamState&>(*reference.state().at(optimizer_state_key(theirs[i])));
      CHECK(a.step() == b.step());
      CHECK(relative_error(a.exp_avg(), b.exp_avg()) < tolerance);
      CHECK(relative_error(a.exp_avg_sq(), b.exp_avg_sq()) < tolerance);
    }
  }
}

TEST_CASE("the one-pass AdamW's state is AdamW's: saved by one, loaded by the other, it goes on alike",
          "[optimizer]") {
  attn::test::seed();
  auto a = random_params(torch::kFloat32);
  auto b = clones(a);
  FusedAdamW fused(a, torch::optim::AdamWOptions(1e-3));
  run_steps(fused, a, Catch::rngSeed());
  torch::serialize::OutputArchive out;
  fused.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  }
  torch::optim::AdamW reference(b, torch::optim::AdamWOptions(1e-3));
  torch::serialize::InputArchive in;
  std::istringstream input(bytes.str());
  in.load_from(input);
  reference.load(in);
  run_steps(fused, a, Catch::rngSeed() + 7);
  run_steps(reference, b, Catch::rngSeed() + 7);
  for (size_t i = 0; i < a.size(); ++i) CHECK(relative_error(a[i], b[i]) < 1e-6);
}

TEST_CASE("the one-pass AdamW hands what it cannot fuse (amsgrad) to LibTorch's step", "[optimizer]") {
  attn::test::seed();
  auto theirs = random_params(torch::kFloat64);
  auto ours = clones(theirs);
  const auto options = torch::optim::AdamWOptions(1e-2).amsgrad(true);
  torch::optim::AdamW reference(theirs, options);
  FusedAdamW fused(ours, options);
  run_steps(reference, theirs, Catch::rngSeed());
  run_steps(fused, ours, Catch::rngSeed());
  for (size_t i = 0; i < ours.size(); ++i) CHECK(torch::equal(ours[i], theirs[i]));
}

TEST_CASE("the one-pass AdamW gives the same bits with every kernel instruction set (vector loops and their tails)",
          "[optimizer]") {
  attn::test::seed();
  const uint64_t seed = Catch::rngSeed() + 3;
  for (const auto dtype : {torch::kFloat32, torch::kFloat64})
    for (const double decay : {0.0, 0.1}) {
      INFO(dtype << ", weight decay " << decay);
      const auto start = random_params(dtype);  // 37,000, 5 and 12 elements: vector bodies and short tails
      std::vector<torch::Tensor> first;
      for (const auto& isa : kernels::kernel_isas()) {
        INFO("kernels: " << isa);
        REQUIRE(kernels::force_kernel_isa(isa));
        auto params = clones(start);
        FusedAdamW fused(params, torch::optim::AdamWOptions(1e-2).weight_decay(decay));
        run_steps(fused, params, seed);
        if (first.empty()) first = params;
        for (size_t i = 0; i < params.size(); ++i) CHECK(torch::equal(params[i], first[i]));
      }
      kernels::force_kernel_isa("");
    }
}

}  // namespace test_fused_adamw
