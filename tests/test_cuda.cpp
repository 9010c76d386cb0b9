// The CUDA path against the CPU: attention through LibTorch's fused SDPA kernels (LibTorch 2.x)
// and the reference path, whole models' losses and gradients, a training step with AdamW, and
// a run through the binary (resume, then evaluation of its checkpoint on the CPU).
//
// Hidden tests ([.cuda]): neither `attn_tests` nor ctest runs them by default, since CI has no
// GPU. On a machine with one: `build/tests/attn_tests "[cuda]"` (scripts/cuda_check.sh does).
// Without a CUDA device they fail: they never pass without having run.
#include "attn/model/attention.h"
#include "attn/model/build.h"
#include "attn/train/optimizer.h"

#include "cli_support.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_cuda {

using namespace attn;
using attn::test::relative_error;
namespace fs = std::filesystem;

namespace {

torch::Device cuda() {
  REQUIRE(torch::cuda::is_available());
  return torch::Device(torch::kCUDA, 0);
}

struct Grads {
  torch::Tensor h, dq, dk, dv;
  std::string grad_fn;  // the autograd node that produced h
};

// h and the gradients of sum(h * g) for q, k, v on `device` in `dtype`; inputs given on the CPU.
Grads attend(const torch::Tensor& q0, const torch::Tensor& k0, const torch::Tensor& v0, const torch::Tensor& mask0,
             const torch::Tensor& g0, const AttentionOptions& options, torch::Device device, torch::Dtype dtype) {
  auto on = [&](const torch::Tensor& t) { return t.to(device, dtype).detach().clone().requires_grad_(); };
  auto q = on(q0), k = on(k0), v = on(v0);
  const auto mask = mask0.defined() ? mask0.to(device) : mask0;
  auto h = scaled_dot_product_attention(q, k, v, mask, options).h;          // (B, H, Tq, Dv)
  const std::string node = h.grad_fn() ? h.grad_fn()->name() : "";
  (h * g0.to(device, dtype)).sum().backward();
  auto cpu = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat64); };
  return {cpu(h), cpu(q.grad()), cpu(k.grad()), cpu(v.grad()), node};
}

// Largest difference over max(1, largest reference magnitude): relative for the O(1) values of
// random inputs, absolute where the reference is ~0 (one key: dk is 0 up to rounding).
double error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / std::max(1.0, want.abs().max().item<double>());
}

void check_close(const Grads& got, const Grads& want, double tol) {
  CAPTURE(got.grad_fn);
  CHECK(error(got.h, want.h) < tol);
  CHECK(error(got.dq, want.dq) < tol);
  CHECK(error(got.dk, want.dk) < tol);
  CHECK(error(got.dv, want.dv) < tol);
}

// Loss and gradients of a model on `device`, built from the same seed as on the CPU.
template <typename Build, typename Loss>
std::pair<double, std::vector<torch::Tensor>> loss_and_grads(Build build, Loss loss, torch::Device device,
                                                             uint64_t seed) {
  torch::manual_seed(seed);
  auto model = build();
  model->to(device);
  auto l = loss(model, device);
  l.backward();
  std::vector<torch::Tensor> grads;
  for (auto& p : model->parameters())
    if (p.requires_grad()) grads.push_back(p.grad().defined() ? p.grad().to(torch::kCPU) : torch::zeros_like(p).cpu());
  return {l.template item<double>(), grads};
}

// The same model, built from the same seed, on the CPU and on CUDA: loss to 1e-5, every
// parameter's gradient to 1e-4 (float32; the CPU runs attn's fused kernels, CUDA LibTorch's).
template <typename Build, typename Loss>
void check_devices_agree(Build build, Loss loss, torch::Device device, uint64_t seed) {
  const auto [cpu_loss, cpu_grads] = loss_and_grads(build, loss, torch::kCPU, seed);
  const auto [gpu_loss, gpu_grads] = loss_and_grads(build, loss, device, seed);
  CHECK(gpu_loss == Approx(cpu_loss).epsilon(1e-5));
  REQUIRE(gpu_grads.size() == cpu_grads.size());
  for (size_t i = 0; i < cpu_grads.size(); ++i) {
    CAPTURE(i);
    CHECK(relative_error(gpu_grads[i].to(torch::kFloat64), cpu_grads[i].to(torch::kFloat64)) < 1e-4);
  }
}

}  // namespace

TEST_CASE("soft attention on CUDA (LibTorch's SDPA kernels) equals the float64 CPU reference",
          "[.cuda][attention]") {
  const auto device = cuda();
  attn::test::seed();
  struct Shape {
    int64_t B, H, Tq, Tk, D;
  };
  for (const Shape s : {Shape{3, 2, 37, 53, 16}, Shape{1, 4, 1, 1, 32}, Shape{2, 2, 200, 200, 16}, Shape{2, 8, 64, 96, 64}})
    for (const bool padded : {false, true})
      for (const bool causal : {false, true})
        for (const std::optional<double> beta : {std::optional<double>(), std::optional<double>(0.5), std::optional<double>(2.0)}) {
          if (causal && s.Tq > s.Tk) continue;  // early queries would see no key: the next test
          CAPTURE(s.B, s.H, s.Tq, s.Tk, s.D, padded, causal, beta.value_or(-1));
          auto q = torch::randn({s.B, s.H, s.Tq, s.D}, torch::kFloat64);
          auto k = torch::randn({s.B, s.H, s.Tk, s.D}, torch::kFloat64);
          auto v = torch::randn({s.B, s.H, s.Tk, s.D}, torch::kFloat64);
          auto g = torch::randn({s.B, s.H, s.Tq, s.D}, torch::kFloat64);
          torch::Tensor mask;  // padding at the end, every set keeps at least one key
          if (padded) mask = torch::arange(s.Tk).unsqueeze(0) >= torch::randint(1, s.Tk + 1, {s.B}).unsqueeze(1);
          if (padded && causal) mask = torch::arange(s.Tk).unsqueeze(0).expand({s.B, s.Tk}) >= s.Tk;  // no blind query
          const auto options = AttentionOptions().causal(causal).beta(beta);
          const auto want = attn::test::with_reference_kernels(
              [&] { return attend(q, k, v, mask, g, options, torch::kCPU, torch::kFloat64); });
          const auto fused = attend(q, k, v, mask, g, options, device, torch::kFloat32);
          // Not the decomposed math fallback: one of LibTorch's fused CUDA kernels ran.
          CHECK_THAT(fused.grad_fn, Catch::Contains("ScaledDotProduct"));
          check_close(fused, want, 1e-5);
          // The reference path on CUDA too (it serves weights, hard attention, blind queries).
          check_close(attn::test::with_reference_kernels(
                          [&] { return attend(q, k, v, mask, g, options, device, torch::kFloat32); }),
                      want, 1e-5);
        }
}

TEST_CASE("on CUDA, hard attention, weights and queries that see no key match the CPU", "[.cuda][attention]") {
  const auto device = cuda();
  attn::test::seed();
  auto q = torch::randn({2, 2, 12, 8}, torch::kFloat64), k = torch::randn({2, 2, 9, 8}, torch::kFloat64);
  auto v = torch::randn({2, 2, 9, 8}, torch::kFloat64), g = torch::randn({2, 2, 12, 8}, torch::kFloat64);
  auto mask = torch::arange(9).unsqueeze(0) >= torch::tensor({9, 4}).unsqueeze(1);  // (2, 9)
  mask[1].fill_(true);                                                               // a set all padding
  for (const auto mode : {AttentionMode::Soft, AttentionMode::Hard})
    for (const bool causal : {false, true}) {  // causal with 12 queries over 9 keys: 3 blind queries
      CAPTURE(to_string(mode), causal);
      const auto options = AttentionOptions().mode(mode).causal(causal);
      const auto want = attend(q, k, v, mask, g, options, torch::kCPU, torch::kFloat64);
      const auto got = attend(q, k, v, mask, g, options, device, torch::kFloat64);
      check_close(got, want, 1e-12);
      CHECK(got.h[1].abs().max().item<double>() == 0);  // the all-padding set: h = 0
      auto weights = scaled_dot_product_attention(q.to(device), k.to(device), v.to(device), mask.to(device),
                                                  AttentionOptions(options).need_weights(true));
      auto cpu_weights = scaled_dot_product_attention(q, k, v, mask, AttentionOptions(options).need_weights(true));
      CHECK(relative_error(weights.a.cpu(), cpu_weights.a) < 1e-12);
    }
}

TEST_CASE("a set classifier's loss and gradients on CUDA equal the CPU's (fused CPU kernels vs CUDA)",
          "[.cuda][models]") {
  const auto device = cuda();
  const uint64_t seed = Catch::rngSeed();
  torch::manual_seed(seed);
  auto ids = torch::randint(2, 1000, {16, 40});
  auto pad = torch::arange(40).unsqueeze(0) >= torch::randint(1, 41, {16}).unsqueeze(1);  // (16, 40)
  auto labels = torch::randint(0, 2, {16});
  for (const auto pooling : {Pooling::Max, Pooling::Mean, Pooling::Attention})
    for (const auto norm : {NormPlacement::Post, NormPlacement::Pre}) {
      CAPTURE(static_cast<int>(pooling), static_cast<int>(norm));
      auto build = [&] {
        return SetClassifier(SetClassifierOptions(
                                 EncoderOptions(EmbeddingsOptions(1000, 32), LayerOptions(32, 2, 128).norm(norm), 2), 2)
                                 .pooling(pooling));
      };
      auto loss = [&](SetClassifier& m, torch::Device d) {
        return torch::cross_entropy_loss(m(ids.to(d), pad.to(d)), labels.to(d));
      };
      check_devices_agree(build, loss, device, seed);
    }
}

TEST_CASE("an encoder-decoder's loss and gradients on CUDA equal the CPU's", "[.cuda][models]") {
  const auto device = cuda();
  const uint64_t seed = Catch::rngSeed();
  torch::manual_seed(seed);
  auto src = torch::randint(2, 300, {8, 23}), tgt = torch::randint(2, 250, {8, 17});
  auto src_pad = torch::arange(23).unsqueeze(0) >= torch::randint(1, 24, {8}).unsqueeze(1);
  auto tgt_pad = torch::arange(17).unsqueeze(0) >= torch::randint(1, 18, {8}).unsqueeze(1);
  auto build = [] {
    return Seq2Seq(Seq2SeqOptions(EncoderOptions(EmbeddingsOptions(300, 64), LayerOptions(64, 4, 128), 2),
                                  DecoderOptions(EmbeddingsOptions(250, 64), LayerOptions(64, 4, 128), 2)));
  };
  auto loss = [&](Seq2Seq& m, torch::Device d) {
    auto logits = m(src.to(d), tgt.to(d), src_pad.to(d), tgt_pad.to(d));  // (8, 17, 250)
    return torch::cross_entropy_loss(logits.reshape({-1, 250}), tgt.to(d).reshape({-1}));
  };
  check_devices_agree(build, loss, device, seed);
}

TEST_CASE("AdamW steps on CUDA parameters equal the fused CPU steps", "[.cuda][optimizer]") {
  const auto device = cuda();
  attn::test::seed();
  auto p0 = torch::randn({500, 32}, torch::kFloat64);
  TrainConfig t;
  t.lr = 1e-2;
  t.weight_decay = 0.01;
  auto cpu_p = p0.clone().requires_grad_(), gpu_p = p0.to(device).requires_grad_();
  auto cpu_opt = make_optimizer(t, {cpu_p}), gpu_opt = make_optimizer(t, {gpu_p});
  for (int step = 0; step < 5; ++step) {
    auto g = torch::randn_like(p0);
    cpu_p.mutable_grad() = g.clone();
    gpu_p.mutable_grad() = g.to(device);
    cpu_opt->step();
    gpu_opt->step();
  }
  CHECK(relative_error(gpu_p.detach().cpu(), cpu_p.detach()) < 1e-12);
}

TEST_CASE("a CUDA run resumed from its checkpoint ends where the whole run ends, and evaluates on the CPU",
          "[.cuda][cli]") {
  cuda();
  attn::test::Sandbox s;
  const std::string gpu = " --set device=cuda";
  REQUIRE(s.attn("train " + s.config + " --out whole" + gpu).rc == 0);
  REQUIRE(s.attn("train " + s.config + " --out parts --set train.max_steps=50" + gpu).rc == 0);
  auto resumed = s.attn("train " + s.config + " --out parts --resume --set train.max_steps=0" + gpu);
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("at step 50"));
  // Not to the bit: CUDA's embedding backward adds with atomics, in no fixed order. Dropout's
  // masks (the CUDA generator, restored from the checkpoint) would move the weights far more.
  const auto whole = list_step_checkpoints(s.path("whole/checkpoints")).front();
  const auto parts = list_step_checkpoints(s.path("parts/checkpoints")).front();
  CHECK(fs::path(whole).filename() == fs::path(parts).filename());
  const auto a = attn::test::weights(whole), b = attn::test::weights(parts);
  REQUIRE(a.size() == b.size());
  for (const auto& [name, w] : a) {
    CAPTURE(name);
    CHECK(relative_error(b.at(name).to(torch::kFloat64), w.to(torch::kFloat64)) < 1e-4);
  }
  // The GPU-written checkpoint on the CPU: the same metrics as on the GPU.
  auto on_cpu = s.attn("eval whole --device cpu --json"), on_gpu = s.attn("eval whole --device cuda --json");
  INFO(on_cpu.err << on_gpu.err);
  REQUIRE(on_cpu.rc == 0);
  REQUIRE(on_gpu.rc == 0);
  const auto cpu_metrics = nlohmann::json::parse(on_cpu.out), gpu_metrics = nlohmann::json::parse(on_gpu.out);
  CHECK(cpu_metrics["loss"].get<double>() == Approx(gpu_metrics["loss"].get<double>()).epsilon(1e-4));
  CHECK(cpu_metrics["accuracy"] == gpu_metrics["accuracy"]);
}

}  // namespace test_cuda
