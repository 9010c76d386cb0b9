// attn export: a checkpoint's weights alone. The safetensors file is read back by a reader
// written here from the format's published spec (8-byte little-endian header size, a JSON header
// of dtype, shape and data_offsets, then the bytes), with no attn code, so the spec is what is
// tested; the PyTorch file by LibTorch's torch::pickle_load and, where Python's torch is
// installed, by torch.load(weights_only=True).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "attn/infer/checkpoint_model.h"
#include "attn/io/checkpoint_reader.h"
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_export {

using namespace attn;
using namespace attn::test;
using nlohmann::json;

namespace {

// The spec's layout, read by hand: name -> tensor (F32 and I64 only: what attn's models hold).
std::map<std::string, torch::Tensor> read_safetensors_by_spec(const std::string& bytes, json& metadata) {
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  REQUIRE(8 + n <= bytes.size());
  const auto header = json::parse(bytes.substr(8, n));
  const char* data = bytes.data() + 8 + n;
  const size_t data_size = bytes.size() - 8 - n;
  std::map<std::string, torch::Tensor> out;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      metadata = entry;
      continue;
    }
    const auto dtype = entry.at("dtype").get<std::string>();
    REQUIRE((dtype == "F32" || dtype == "I64"));
    const auto shape = entry.at("shape").get<std::vector<int64_t>>();
    const auto offsets = entry.at("data_offsets").get<std::vector<size_t>>();
    REQUIRE(offsets.size() == 2);
    REQUIRE(offsets[1] <= data_size);
    ranges.emplace_back(offsets[0], offsets[1]);
    const auto type = dtype == "F32" ? torch::kFloat32 : torch::kInt64;
    auto t = torch::empty(shape, type);
    REQUIRE(offsets[1] - offsets[0] == static_cast<size_t>(t.numel()) * t.element_size());
    std::memcpy(t.data_ptr(), data + offsets[0], offsets[1] - offsets[0]);  // little-endian, as this machine
    out[name] = t;
  }
  // The data section is the tensors' bytes, back to back: no gaps, no overlaps.
  std::sort(ranges.begin(), ranges.end());
  size_t at = 0;
  for (const auto& [b, e] : ranges) {
    CHECK(b == at);
    at = e;
  }
  CHECK(at == data_size);
  return out;
}

std::map<std::string, torch::Tensor> model_state(const std::string& checkpoint) {
  CheckpointReader reader(checkpoint);
  auto m = load_checkpoint_model(reader, "cpu");
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.model->named_parameters()) out[p.key()] = p.value().detach().clone();
  for (const auto& b : m.model->named_buffers()) out[b.key()] = b.value().detach().clone();
  return out;
}

}  // namespace

TEST_CASE("attn export: the weights alone, as safetensors read by the spec and as PyTorch's format, equal the "
          "checkpoint's, with a JSON of what is needed to use them",
          "[cli][export]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out run --set train.epochs=1").rc == 0);
  auto r = s.attn("export run");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto want = model_state(s.path("run/checkpoints/best.pt"));
  json metadata;
  const auto got = read_safetensors_by_spec(slurp(s.dir / "run/model.safetensors"), metadata);
  REQUIRE(got.size() == want.size());
  for (const auto& [name, t] : want) {
    INFO(name);
    REQUIRE(got.count(name) == 1);
    CHECK(torch::equal(got.at(name), t));
  }
  CHECK(metadata["format"] == "pt");  // what Python's safetensors.torch expects
  CHECK(fs::file_size(s.dir / "run/model.safetensors") < fs::file_size(s.dir / "run/checkpoints/best.pt"));
  const auto about = json::parse(slurp(s.dir / "run/model.json"));
  const auto inspect = json::parse(s.attn("inspect run --json").out);
  CHECK(about["config"] == inspect["config"]);
  CHECK(about["labels"] == inspect["labels"]);
  CHECK(about["vocab"].size() > 2);
  CHECK(about["export"]["weights"] == "model.safetensors");
  // Nothing is replaced unasked.
  r = s.attn("export run");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("model.safetensors exists"));
  CHECK(s.attn("export run --force").rc == 0);

  // A seq2seq checkpoint exports the same way: every parameter, its codecs in the JSON.
  std::ofstream(s.path("reverse.json")) << R"({"task": "seq2seq",
    "data": {"kind": "reverse", "set_size": 5, "symbols": 6, "train_size": 300, "valid_size": 20, "test_size": 20,
             "max_len": 10, "max_target_len": 11},
    "model": {"d_model": 16, "heads": 2, "ffn_hidden": 32, "layers": 1, "positions": "sinusoidal"},
    "train": {"epochs": 1, "batch_size": 32, "plot_examples": 0}, "decode": {"beam_size": 1}, "threads": 1})";
  REQUIRE(s.attn("train reverse.json --out rev").rc == 0);
  REQUIRE(s.attn("export rev").rc == 0);
  json rev_metadata;
  const auto rev = read_safetensors_by_spec(slurp(s.dir / "rev/model.safetensors"), rev_metadata);
  CheckpointReader rev_reader(s.path("rev/checkpoints/best.pt"));
  auto rev_model = load_seq2seq_checkpoint(rev_reader, "cpu");
  for (const auto& p : rev_model.model->named_parameters()) {
    INFO(p.key());
    REQUIRE(rev.count(p.key()) == 1);
    CHECK(torch::equal(rev.at(p.key()), p.value()));
  }
  CHECK(json::parse(slurp(s.dir / "rev/model.json"))["codecs"]["source"]["kind"] == "words");

  // PyTorch's format: a dict of tensors.
  REQUIRE(s.attn("export run --format pytorch --out weights.pt").rc == 0);
  const auto bytes = slurp(s.dir / "weights.pt");
  const auto dict = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
  REQUIRE(dict.size() == want.size());
  double total = 0;
  for (const auto& item : dict) {
    const auto name = item.key().toStringRef();
    INFO(name);
    REQUIRE(want.count(name) == 1);
    CHECK(torch::equal(item.value().toTensor(), want.at(name)));
    total += item.value().toTensor().to(torch::kFloat64).sum().item<double>();
  }
  CHECK(fs::exists(s.dir / "weights.json"));
  std::string python;  // Debian's python3-torch is for /usr/bin/python3, which PATH may not find first
  for (const std::string candidate : {"/usr/bin/python3", "python3"})
    if (python.empty() && std::system((candidate + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0) python = candidate;
  if (python.empty()) {
    WARN("Python's torch is not installed: torch.load of the export was not tried (apt-get install python3-torch)");
    return;
  }
  const auto py = s.shell(python + " -c \"import torch; d = torch.load('weights.pt', weights_only=True); "
                               "print(len(d), repr(sum(float(v.double().sum()) for v in d.values())))\"");
  INFO(py.err);
  REQUIRE(py.rc == 0);
  CHECK(std::stoul(py.out) == want.size());
  CHECK(std::abs(std::stod(py.out.substr(py.out.find(' ') + 1)) - total) < 1e-9 * std::max(1.0, std::abs(total)));
}

}  // namespace test_export
