// attn export: a checkpoint's weights alone. The safetensors file is read back by a reader
// written here from the format's published spec (8-byte little-endian header size, a JSON header
// of dtype, shape and data_offsets, then the bytes), with no attn code, so the spec is what is
// tested; the PyTorch file by LibTorch's torch::pickle_load and, where Python's torch is
// installed, by torch.load(weights_only=True). There too, scripts/attn_torch.py (the models in
// plain PyTorch) loads both formats and is compared with attn's own modules and commands.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attn/infer/checkpoint_model.h"
#include "attn/io/checkpoint_reader.h"
#include "cli_support.h"
#include "support.h"

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

// Python with torch (Debian's python3-torch is for /usr/bin/python3, which PATH may not find
// first), or "" after a warning; ATTN_REQUIRE_PYTHON_TORCH=1 (CI) makes its absence a failure.
std::string python_with_torch(const char* what) {
  for (const std::string candidate : {"/usr/bin/python3", "python3"})
    if (std::system((candidate + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0) return candidate;
  const char* required = std::getenv("ATTN_REQUIRE_PYTHON_TORCH");
  if (required && std::string(required) == "1") FAIL("Python's torch is not installed (apt-get install python3-torch): " << what);
  WARN("Python's torch is not installed: " << what << " not tried (apt-get install python3-torch)");
  return "";
}

// Runs the export's PyTorch twin (scripts/attn_torch.py) on the tensors of inputs.json and
// returns its output tensor, written as JSON lists.
torch::Tensor twin_forward(const Sandbox& s, const std::string& python, const std::string& weights, const json& inputs) {
  std::ofstream(s.path("inputs.json")) << inputs.dump();
  std::ofstream(s.path("twin.py")) << "import json, sys, torch\n"
                                      "sys.path.insert(0, '" ATTN_SOURCE_DIR "/scripts')\n"
                                      "import attn_torch\n"
                                      "e = attn_torch.load(sys.argv[1])\n"
                                      "x = {k: torch.tensor(v) for k, v in json.load(open('inputs.json')).items()}\n"
                                      "with torch.no_grad():\n"
                                      "    if e.config['task'] == 'seq2seq':\n"
                                      "        out = e.model(x['src'], x['tgt'], x['src_pad'], x['tgt_pad'])\n"
                                      "    else:\n"
                                      "        out = e.model(x['ids'], x['pad'])\n"
                                      "json.dump({'shape': list(out.shape), 'values': out.flatten().tolist()}, "
                                      "open('twin.json', 'w'))\n";
  const auto r = s.shell(python + " twin.py " + weights);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto got = json::parse(slurp(s.dir / "twin.json"));
  return torch::tensor(got["values"].get<std::vector<double>>(), torch::kFloat64).view(got["shape"].get<std::vector<int64_t>>());
}

// (B, T) ids below `vocab` (from 4: no special tokens) and their padding mask, for row lengths.
std::pair<torch::Tensor, torch::Tensor> padded_ids(const std::vector<int64_t>& lengths, int64_t vocab, int64_t first = -1) {
  const int64_t B = static_cast<int64_t>(lengths.size()), T = *std::max_element(lengths.begin(), lengths.end());
  auto ids = torch::randint(4, vocab, {B, T}, torch::kLong);               // (B, T)
  if (first >= 0) ids.select(1, 0).fill_(first);
  auto pad = torch::arange(T).unsqueeze(0) >= torch::tensor(lengths).unsqueeze(1);  // (B, T)
  return {ids.masked_fill(pad, 1), pad};
}

json as_json(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kBool) {
    json rows = json::array();
    for (int64_t b = 0; b < t.size(0); ++b) {
      json row = json::array();
      for (int64_t i = 0; i < t.size(1); ++i) row.push_back(t[b][i].item<bool>());
      rows.push_back(row);
    }
    return rows;
  }
  json rows = json::array();
  for (int64_t b = 0; b < t.size(0); ++b) {
    auto r = t[b].contiguous();
    rows.push_back(std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()));
  }
  return rows;
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
  const auto python = python_with_torch("torch.load of the export");
  if (python.empty()) return;
  const auto py = s.shell(python + " -c \"import torch; d = torch.load('weights.pt', weights_only=True); "
                               "print(len(d), repr(sum(float(v.double().sum()) for v in d.values())))\"");
  INFO(py.err);
  REQUIRE(py.rc == 0);
  CHECK(std::stoul(py.out) == want.size());
  CHECK(std::abs(std::stod(py.out.substr(py.out.find(' ') + 1)) - total) < 1e-9 * std::max(1.0, std::abs(total)));
}

TEST_CASE("scripts/attn_torch.py, the PyTorch twin of an export, gives attn's logits (1e-5), predictions and "
          "greedy translations",
          "[cli][export][python]") {
  Sandbox s;
  const auto python = python_with_torch("the PyTorch twin of an export (scripts/attn_torch.py)");
  if (python.empty()) return;
  attn::test::seed();
  // A text classifier (GLUE's layout), pre-LayerNorm, GELU, learned positions, attention pooling.
  std::string tsv = "sentence\tlabel\n";
  for (int i = 0; i < 120; ++i)
    tsv += std::string(i % 2 ? "A fine, moving film" : "Dull and SLOW") + " number " + std::to_string(i % 7) + "\t" +
           (i % 2 ? "1" : "0") + "\n";
  std::ofstream(s.path("train.tsv")) << tsv;
  REQUIRE(s.attn("train " + s.config + " --out run --set data.kind=tsv --set data.path=train.tsv "
                 "--set data.tokenizer=words --set data.ngrams=2 --set model.pooling=attention --set model.norm=pre "
                 "--set model.activation=gelu --set model.positions=learned --set model.max_positions=64 --set data.max_len=32 "
                 "--set train.epochs=2").rc == 0);
  for (const std::string format : {"safetensors", "pytorch"}) {
    INFO(format);
    const std::string weights = format == "pytorch" ? "run/model.pt" : "run/model.safetensors";
    REQUIRE(s.attn("export run --force --format " + format).rc == 0);
    CheckpointReader reader(s.path("run/checkpoints/best.pt"));
    auto m = load_checkpoint_model(reader, "cpu");
    const auto [ids, pad] = padded_ids({7, 5, 2}, static_cast<int64_t>(m.vocab.size()));
    torch::NoGradGuard no_grad;
    const auto want = m.model->forward(ids, pad).to(torch::kFloat64);     // (B, C)
    const auto got = twin_forward(s, python, weights, {{"ids", as_json(ids)}, {"pad", as_json(pad)}});
    REQUIRE(got.sizes() == want.sizes());
    CHECK((got - want).abs().max().item<double>() < 1e-5);
  }
  // Text in: the twin's tokenizer and vocabulary give attn predict's answers.
  const std::string lines = "A FINE film, number 3\ndull... and slow <br /> 'number' 12\nunseen words only\n";
  std::ofstream(s.path("lines.txt")) << lines;
  const auto attn_out = s.attn("predict run lines.txt --json");
  const auto twin_out = s.shell(python + " " ATTN_SOURCE_DIR "/scripts/attn_torch.py run/model.pt", lines);
  INFO(twin_out.err);
  REQUIRE(attn_out.rc == 0);
  REQUIRE(twin_out.rc == 0);
  std::istringstream a(attn_out.out), t(twin_out.out);
  std::string la, lt;
  int n = 0;
  while (std::getline(a, la) && std::getline(t, lt)) {
    const auto ja = json::parse(la), jt = json::parse(lt);
    CHECK(ja["label"] == jt["label"]);
    for (const auto& [label, p] : ja["probs"].items()) CHECK(std::abs(p.get<double>() - jt["probs"][label].get<double>()) < 1e-5);
    ++n;
  }
  CHECK(n == 3);

  // A seq2seq model: teacher-forced logits, and greedy translations through the codecs. Trained
  // under a beta schedule: the twin takes the beta of the checkpoint's step, not model.beta.
  std::ofstream(s.path("reverse.json")) << R"({"task": "seq2seq",
    "data": {"kind": "reverse", "set_size": 5, "symbols": 6, "train_size": 600, "valid_size": 20, "test_size": 20,
             "max_len": 10, "max_target_len": 11},
    "model": {"d_model": 16, "heads": 2, "ffn_hidden": 32, "layers": 2, "decoder_layers": 1, "positions": "sinusoidal",
              "beta_schedule": "linear", "beta_end": 2},
    "train": {"epochs": 2, "batch_size": 32, "plot_examples": 0}, "decode": {"beam_size": 1}, "threads": 1})";
  REQUIRE(s.attn("train reverse.json --out rev").rc == 0);
  REQUIRE(s.attn("export rev").rc == 0);
  CheckpointReader rev_reader(s.path("rev/checkpoints/best.pt"));
  auto rev = load_seq2seq_checkpoint(rev_reader, "cpu");
  const auto [src, src_pad] = padded_ids({5, 3}, rev.source_codec->size());
  const auto [tgt, tgt_pad] = padded_ids({6, 4}, rev.target_codec->size(), /*first=*/2);
  torch::NoGradGuard no_grad;
  const auto want = rev.model->forward(src, tgt, src_pad, tgt_pad).to(torch::kFloat64);  // (B, T, V)
  const auto got = twin_forward(s, python, "rev/model.safetensors",
                                {{"src", as_json(src)}, {"src_pad", as_json(src_pad)}, {"tgt", as_json(tgt)},
                                 {"tgt_pad", as_json(tgt_pad)}});
  REQUIRE(got.sizes() == want.sizes());
  // Rows of padded target positions are not compared: nothing reads them.
  const auto keep = tgt_pad.logical_not().unsqueeze(-1);                   // (B, T, 1)
  CHECK(((got - want).abs() * keep).max().item<double>() < 1e-5);
  const std::string sources = "3 5 1 7 2\n4 4 0\n9\n";
  const auto attn_tr = s.attn("predict rev --beam 1", sources);
  const auto twin_tr = s.shell(python + " " ATTN_SOURCE_DIR "/scripts/attn_torch.py rev/model.safetensors", sources);
  INFO(twin_tr.err);
  REQUIRE(attn_tr.rc == 0);
  REQUIRE(twin_tr.rc == 0);
  std::istringstream at(attn_tr.out), tt(twin_tr.out);
  n = 0;
  while (std::getline(at, la) && std::getline(tt, lt)) {
    CHECK(json::parse(lt)["output"] == la);
    ++n;
  }
  CHECK(n == 3);
}

TEST_CASE("attn import: the notebook's classifier, trained and saved in Python, becomes a run whose model gives "
          "the notebook's logits (1e-5)",
          "[cli][export][python]") {
  Sandbox s;
  const auto python = python_with_torch("attn import of a model the notebook's code trained");
  if (python.empty()) return;
  // The lecture notebook's classes, as it writes them (the feed-forward part as Linears, the
  // layers in encoder.enc_layers, no masks), trained a few steps and saved as its state dict.
  std::ofstream(s.path("notebook.py")) << R"(import json, math, torch, torch.nn as nn
torch.manual_seed(0)
class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads, self.d_k = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, d_model, bias=False)
        self.W_v = nn.Linear(d_model, d_model, bias=False)
        self.W_h = nn.Linear(d_model, d_model)
    def forward(self, X_q, X_k, X_v):
        B = X_q.size(0)
        split = lambda x: x.view(B, -1, self.num_heads, self.d_k).transpose(1, 2)
        Q, K, V = split(self.W_q(X_q)), split(self.W_k(X_k)), split(self.W_v(X_v))
        A = torch.softmax(torch.matmul(Q / math.sqrt(self.d_k), K.transpose(2, 3)), dim=-1)
        H = torch.matmul(A, V).transpose(1, 2).contiguous().view(B, -1, self.num_heads * self.d_k)
        return self.W_h(H), A
class CNN(nn.Module):
    def __init__(self, d_model, hidden_dim):
        super().__init__()
        self.k1convL1, self.k1convL2 = nn.Linear(d_model, hidden_dim), nn.Linear(hidden_dim, d_model)
    def forward(self, x):
        return self.k1convL2(torch.relu(self.k1convL1(x)))
class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, conv_hidden_dim):
        super().__init__()
        self.mha, self.cnn = MultiHeadAttention(d_model, num_heads), CNN(d_model, conv_hidden_dim)
        self.layernorm1 = nn.LayerNorm(normalized_shape=d_model, eps=1e-6)
        self.layernorm2 = nn.LayerNorm(normalized_shape=d_model, eps=1e-6)
    def forward(self, x):
        out1 = self.layernorm1(x + self.mha(x, x, x)[0])
        return self.layernorm2(out1 + self.cnn(out1))
class Embeddings(nn.Module):
    def __init__(self, d_model, vocab_size, max_position_embeddings):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, d_model, padding_idx=1)
        self.position_embeddings = nn.Embedding(max_position_embeddings, d_model)
        with torch.no_grad():
            p = torch.arange(max_position_embeddings, dtype=torch.float64).unsqueeze(1)
            theta = p / torch.pow(10000.0, (torch.arange(d_model) // 2 * 2) / d_model)
            self.position_embeddings.weight[:, 0::2] = torch.sin(theta[:, 0::2]).float()
            self.position_embeddings.weight[:, 1::2] = torch.cos(theta[:, 1::2]).float()
        self.position_embeddings.weight.requires_grad = False
        self.LayerNorm = nn.LayerNorm(d_model, eps=1e-12)
    def forward(self, ids):
        positions = torch.arange(ids.size(1), dtype=torch.long)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(positions))
class Encoder(nn.Module):
    def __init__(self, num_layers, d_model, num_heads, ff_hidden_dim, input_vocab_size, maximum_position_encoding):
        super().__init__()
        self.embedding = Embeddings(d_model, input_vocab_size, maximum_position_encoding)
        self.enc_layers = nn.ModuleList([EncoderLayer(d_model, num_heads, ff_hidden_dim) for _ in range(num_layers)])
    def forward(self, x):
        x = self.embedding(x)
        for layer in self.enc_layers:
            x = layer(x)
        return x
class TransformerClassifier(nn.Module):
    def __init__(self, num_layers, d_model, num_heads, conv_hidden_dim, input_vocab_size, num_answers):
        super().__init__()
        self.encoder = Encoder(num_layers, d_model, num_heads, conv_hidden_dim, input_vocab_size, 10000)
        self.dense = nn.Linear(d_model, num_answers)
    def forward(self, x):
        return self.dense(torch.max(self.encoder(x), dim=1)[0])
model = TransformerClassifier(1, 16, 2, 32, 30, 2)
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
for step in range(5):
    x = torch.randint(2, 30, (16, 12))
    loss = nn.functional.cross_entropy(model(x), (x == 5).any(1).long())
    opt.zero_grad(); loss.backward(); opt.step()
torch.save(model.state_dict(), "notebook.pt")
model.eval()
x = torch.randint(1, 30, (3, 12))
text = torch.tensor([[5, 7, 9] + [1] * 9])  # "w5 w7 w9", padded to 12 and not masked, as the notebook does
with torch.no_grad():
    json.dump({"ids": x.tolist(), "logits": model(x).tolist(), "text_probs": torch.softmax(model(text), -1)[0].tolist()},
              open("notebook.json", "w"))
)";
  const auto py = s.shell(python + " notebook.py");
  INFO(py.err);
  REQUIRE(py.rc == 0);
  std::string vocab = "<unk>\n<pad>\n";
  for (int i = 2; i < 30; ++i) vocab += "w" + std::to_string(i) + "\n";
  std::ofstream(s.path("vocab.txt")) << vocab;
  const std::string config = std::string(ATTN_SOURCE_DIR) + "/configs/imdb_notebook.json";
  const std::string model = " --set model.d_model=16 --set model.ffn_hidden=32 --set data.max_len=12";
  auto r = s.attn("import notebook.pt --config " + config + model + " --vocab vocab.txt --labels neg,pos --out nb");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto expected = json::parse(slurp(s.dir / "notebook.json"));
  CheckpointReader reader(s.path("nb/checkpoints/best.pt"));
  auto m = load_checkpoint_model(reader, "cpu");
  std::vector<int64_t> flat;
  for (const auto& row : expected["ids"]) for (const auto& v : row) flat.push_back(v.get<int64_t>());
  torch::NoGradGuard no_grad;
  const auto logits = m.model->forward(torch::tensor(flat).view({3, 12})).to(torch::kFloat64);  // (3, 2)
  std::vector<double> want;
  for (const auto& row : expected["logits"]) for (const auto& v : row) want.push_back(v.get<double>());
  CHECK((logits - torch::tensor(want, torch::kFloat64).view({3, 2})).abs().max().item<double>() < 1e-5);
  // Text through the binary: the vocabulary and the config's padding (fixed length, not masked).
  const auto predicted = json::parse(s.attn("predict nb --json", "w5 w7 w9\n").out);
  CHECK(std::abs(predicted["probs"]["neg"].get<double>() - expected["text_probs"][0].get<double>()) < 1e-5);
  CHECK(std::abs(predicted["probs"]["pos"].get<double>() - expected["text_probs"][1].get<double>()) < 1e-5);

  // A config that does not describe the file, a vocabulary without <unk> and <pad>, a run that
  // exists: one line each, exit code 2, nothing written.
  r = s.attn("import notebook.pt --config " + config + " --set model.d_model=32 --set model.ffn_hidden=32 "
             "--vocab vocab.txt --labels neg,pos --out wrong");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("is [30, 16], the model's is [30, 32]"));
  CHECK_FALSE(fs::exists(s.dir / "wrong"));
  std::ofstream(s.path("bad_vocab.txt")) << "the\nof\n";
  r = s.attn("import notebook.pt --config " + config + model + " --vocab bad_vocab.txt --labels neg,pos --out bad");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("starting with <unk> and <pad>"));
  r = s.attn("import notebook.pt --config " + config + model + " --vocab vocab.txt --labels neg,pos --out nb");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("nb exists"));
  r = s.attn("import vocab.txt --config " + config + model + " --vocab vocab.txt --labels neg,pos --out text");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("not a file torch.save wrote"));
}

}  // namespace test_export
