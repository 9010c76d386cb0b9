// Checkpoints: what is written comes back, and damaged or foreign files give one clear error.
#include "attn/io/checkpoint_reader.h"

#include "attn/io/optimizer_state.h"
#include "attn/io/safetensors.h"

#include <filesystem>
#include <fstream>
#include <memory>

#include <unistd.h>  // getpid

#include "attn/model/build.h"
#include "attn/train/optimizer.h"
#include "legacy_checkpoint.h"
#include "support.h"
#include "remove_tree.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_checkpoint {

using namespace attn;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("attn_ckpt_" + std::to_string(::getpid()));
  Config cfg;
  Fixture() {
    fs::create_directories(dir);
    cfg.model.d_model = 8, cfg.model.ffn_hidden = 16, cfg.model.layers = 1;
  }
  ~Fixture() { attn::test::remove_tree(dir.string()); }
  CheckpointHeader header() const {
    CheckpointHeader h;
    h.config = cfg;
    h.vocab = {"<unk>", "<pad>", "a", "b", "c"};
    h.labels = {"x", "y", "z"};
    h.state = {12, 1, 3, 0.75, 10, 1};
    h.metrics = {{"accuracy", 0.75}};
    h.attn_version = ATTN_VERSION;
    h.torch_version = TORCH_VERSION;
    return h;
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Whether two AdamW optimizers of two models hold the same step and moments, parameter by parameter.
// A classifier of `cfg` and its AdamW after one step on a random batch: weights, moments and a
// step count to save.
struct Stepped {
  SetClassifier model;
  std::unique_ptr<torch::optim::AdamW> opt;
};
Stepped one_adamw_step(const Config& cfg) {
  auto model = build_classifier(cfg.model, 5, 3);
  auto opt = std::make_unique<torch::optim::AdamW>(model->parameters(), torch::optim::AdamWOptions(1e-3));
  model(torch::randint(2, 5, {2, 4})).sum().backward();
  opt->step();
  return {model, std::move(opt)};
}

bool same_adamw_state(torch::optim::AdamW& a, torch::nn::Module& ma, torch::optim::AdamW& b, torch::nn::Module& mb) {
  const auto pa = ma.parameters(), pb = mb.parameters();
  if (a.state().size() != b.state().size() || a.state().empty()) return false;
  for (size_t i = 0; i < pa.size(); ++i) {
    const auto fa = a.state().find(optimizer_state_key(pa[i]));
    const auto fb = b.state().find(optimizer_state_key(pb[i]));
    if ((fa == a.state().end()) != (fb == b.state().end())) return false;
    if (fa == a.state().end()) continue;
    const auto& sa = static_cast<const torch::optim::AdamWParamState&>(*fa->second);
    const auto& sb = static_cast<const torch::optim::AdamWParamState&>(*fb->second);
    if (sa.step() != sb.step() || !torch::equal(sa.exp_avg(), sb.exp_avg()) ||
        !torch::equal(sa.exp_avg_sq(), sb.exp_avg_sq()))
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a checkpoint returns its header, weights, optimizer state and RNG", "[checkpoint]") {
  attn::test::seed();
  Fixture f;
  auto [model, opt] = one_adamw_step(f.cfg);
  const auto rng_before = torch::rand({3});
  save_checkpoint(f.path("a.pt"), f.header(), *model, opt.get());
  const auto rng_next = torch::rand({3});

  CheckpointReader reader(f.path("a.pt"));
  const auto& h = reader.header();
  CHECK(h.vocab == f.header().vocab);
  CHECK(h.labels == f.header().labels);
  CHECK(h.state.step == 12);
  CHECK(h.state.batch == 3);
  CHECK(h.state.best == 0.75);
  CHECK(to_json(h.config) == to_json(f.cfg));
  CHECK(h.metrics == f.header().metrics);
  auto copy = build_classifier(h.config.model, 5, 3);
  torch::optim::AdamW copy_opt(copy->parameters(), torch::optim::AdamWOptions(1e-3));
  reader.load_model(*copy);
  reader.load_optimizer(copy_opt);
  // AdamW's step count and both moments, for every parameter, as they were saved.
  CHECK(same_adamw_state(*opt, *model, copy_opt, *copy));
  CHECK(copy_opt.state().size() == model->parameters().size());
  double moments = 0;
  for (const auto& [key, state] : copy_opt.state())
    moments += static_cast<const torch::optim::AdamWParamState&>(*state).exp_avg_sq().sum().item<double>();
  CHECK(moments > 0);  // a real step's moments, not zeros compared with zeros
  auto a = model->named_parameters(), b = copy->named_parameters();
  for (const auto& item : a) CHECK(torch::equal(item.value(), b[item.key()]));
  reader.restore_rng();
  CHECK(torch::equal(torch::rand({3}), rng_next));  // the generator continues where it was saved
  (void)rng_before;
  CHECK_FALSE(fs::exists(f.path("a.pt") + ".tmp." + std::to_string(::getpid())));
}

TEST_CASE("optimizer state read from a checkpoint moves to each parameter's device", "[checkpoint][device]") {
  // The state is read onto the CPU whatever device wrote it; a run resumed on a GPU needs it on
  // the GPU. The meta device stands in for one here (a CPU-only machine has no other).
  attn::test::seed();
  Fixture f;
  auto model = build_classifier(f.cfg.model, 5, 3);
  TrainConfig sgd_config;
  sgd_config.optimizer = OptimizerKind::SGD;
  for (const auto& t : {TrainConfig(), sgd_config}) {
    CAPTURE(to_string(t.optimizer));
    auto params = trainable_parameters(*model);
    auto opt = make_optimizer(t, params);
    model(torch::randint(2, 5, {2, 4})).sum().backward();
    opt->step();
    save_checkpoint(f.path("o.pt"), f.header(), *model, opt.get());

    std::vector<torch::Tensor> elsewhere;
    for (const auto& p : params) elsewhere.push_back(torch::empty_like(p, p.options().device(torch::kMeta)));
    auto moved = make_optimizer(t, elsewhere);
    CheckpointReader(f.path("o.pt")).load_optimizer(*moved);
    int checked = 0;
    for (const auto& p : elsewhere) {
      const auto& state = *moved->state().at(optimizer_state_key(p));
      std::vector<torch::Tensor> tensors;
      if (auto* a = dynamic_cast<const torch::optim::AdamWParamState*>(&state))
        tensors = {a->exp_avg(), a->exp_avg_sq()};
      else if (auto* m = dynamic_cast<const torch::optim::SGDParamState*>(&state))
        tensors = {m->momentum_buffer()};
      for (const auto& x : tensors) {
        CHECK(x.device() == p.device());
        ++checked;
      }
    }
    CHECK(checked >= static_cast<int>(elsewhere.size()));
  }
}

TEST_CASE("damaged, truncated, empty or foreign files give a one-line checkpoint error",
          "[checkpoint][errors]") {
  Fixture f;
  auto model = build_classifier(f.cfg.model, 5, 3);
  save_checkpoint(f.path("good.pt"), f.header(), *model, nullptr);
  const auto good = bytes_of(f.path("good.pt"));
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(f.path(name), std::ios::binary) << bytes;
    return f.path(name);
  };
  CHECK_THROWS_WITH(CheckpointReader(write("empty.pt", "")),
                    Catch::Contains("not a readable checkpoint (damaged, truncated or not ours)"));
  CHECK_THROWS_WITH(CheckpointReader(write("text.pt", "hello, world\n")),
                    Catch::Contains("not a readable checkpoint"));
  CHECK_THROWS_WITH(CheckpointReader(write("cut.pt", good.substr(0, good.size() / 2))),
                    Catch::Contains("not a readable checkpoint"));
  CHECK_THROWS_WITH(CheckpointReader(f.path("none.pt")), Catch::EndsWith("none.pt: no such checkpoint file"));
  // A LibTorch archive: refused unless trusted; trusted, it is still not ours (a bare tensor).
  torch::save(torch::ones({2}), f.path("tensor.pt"));
  CHECK_THROWS_WITH(CheckpointReader(f.path("tensor.pt")), Catch::Contains("add --trust-checkpoint"));
  {
    attn::test::TrustArchives trust;
    CHECK_THROWS_WITH(CheckpointReader(f.path("tensor.pt")), Catch::Contains("not an attn checkpoint"));
  }
  // A safetensors file that is not ours: no "attn" header.
  CHECK_THROWS_WITH(CheckpointReader(write("foreign.pt", checkpoint_format::with_checksum(safetensors::write(
                                                             {{"w", torch::ones({2})}}, {})))),
                    Catch::Contains("not an attn checkpoint (no \"attn\" header"));
  // Weights that do not fit the model the config describes.
  auto other = build_classifier(f.cfg.model, 7, 3);
  CheckpointReader reader(f.path("good.pt"));
  CHECK_THROWS_WITH(reader.load_model(*other), Catch::Contains("its weights do not fit the model"));
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1));
  CHECK_THROWS_WITH(reader.load_optimizer(sgd), Catch::Contains("holds no optimizer state"));
}

TEST_CASE("a checkpoint from a newer format is refused with what to do", "[checkpoint][errors]") {
  Fixture f;
  auto model = build_classifier(f.cfg.model, 5, 3);
  auto h = f.header();
  h.format = kCheckpointFormat + 1;
  save_checkpoint(f.path("future.pt"), h, *model, nullptr);
  CHECK_THROWS_WITH(CheckpointReader(f.path("future.pt")),
                    Catch::Contains("written by a newer attn (checkpoint format " + std::to_string(kCheckpointFormat + 1) +
                                    ", this attn reads up to " + std::to_string(kCheckpointFormat) + "); upgrade attn"));
}

TEST_CASE("every flipped byte and every cut of a checkpoint is found by its checksum, in one line",
          "[checkpoint][errors]") {
  attn::test::seed();
  Fixture f;
  auto model = build_classifier(f.cfg.model, 5, 3);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3));
  save_checkpoint(f.path("good.pt"), f.header(), *model, &opt);
  const auto good = bytes_of(f.path("good.pt"));
  REQUIRE_NOTHROW(CheckpointReader(f.path("good.pt")));
  CHECK_THAT(CheckpointReader(f.path("good.pt")).integrity(), Catch::StartsWith("crc32 ") && Catch::EndsWith(": ok"));
  const auto damaged = f.path("damaged.pt");
  auto refused = [&](const std::string& bytes) {
    std::ofstream(damaged, std::ios::binary | std::ios::trunc) << bytes;
    try {
      CheckpointReader reader(damaged);
      return false;
    } catch (const CheckpointError& e) {
      return std::string(e.what()).find('\n') == std::string::npos &&
             std::string(e.what()).find("damaged") != std::string::npos;
    }
  };
  int flips_found = 0, cuts_found = 0, flips = 0, cuts = 0;
  for (size_t i = 0; i < good.size(); ++i) {  // every byte, each flipped by a random nonzero mask
    auto bytes = good;
    bytes[i] = static_cast<char>(bytes[i] ^ static_cast<char>(1 + torch::randint(255, {1}).item<int>()));
    flips_found += refused(bytes), ++flips;
  }
  for (size_t n = 1; n < good.size(); n += std::max<size_t>(1, good.size() / 300)) {
    cuts_found += refused(good.substr(0, n)), ++cuts;
  }
  for (size_t n = good.size() - 64; n < good.size(); ++n) cuts_found += refused(good.substr(0, n)), ++cuts;
  INFO(good.size() << " bytes");
  CHECK(flips_found == flips);
  CHECK(cuts_found == cuts);
}

TEST_CASE("a checkpoint without checksum loads only as the format 2 it claims", "[checkpoint][errors]") {
  Fixture f;
  attn::test::TrustArchives trust;
  auto model = build_classifier(f.cfg.model, 5, 3);
  auto h = f.header();
  h.format = 2;  // what attn wrote before checksums: the archive alone
  std::ofstream(f.path("v2.pt"), std::ios::binary) << attn::test::archive_checkpoint(h, *model, nullptr);
  CheckpointReader old(f.path("v2.pt"));
  CHECK(old.integrity() == "no checksum (format 2)");
  CHECK_NOTHROW(old.load_model(*model));
  h.format = 3;  // an archive that claims the checksum it lacks
  auto bytes = attn::test::archive_checkpoint(h, *model, nullptr);
  std::ofstream(f.path("v3.pt"), std::ios::binary) << bytes.substr(0, bytes.size() - 20);
  CHECK_THROWS_WITH(CheckpointReader(f.path("v3.pt")), Catch::Contains("without its checksum"));
  save_checkpoint(f.path("v4.pt"), f.header(), *model, nullptr);  // today's, its trailer cut off
  bytes = bytes_of(f.path("v4.pt"));
  std::ofstream(f.path("v4.pt"), std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 20);
  CHECK_THROWS_WITH(CheckpointReader(f.path("v4.pt")), Catch::Contains("format 4 without its checksum"));
}

TEST_CASE("a format-3 archive checkpoint loads when trusted, weights, optimizer and RNG", "[checkpoint]") {
  attn::test::seed();
  Fixture f;
  auto [model, opt] = one_adamw_step(f.cfg);
  auto h = f.header();
  h.format = 3;
  std::ofstream(f.path("v3.pt"), std::ios::binary) << attn::test::archive_checkpoint(h, *model, opt.get());
  const auto rng_next = torch::rand({3});
  CHECK_THROWS_AS(CheckpointReader(f.path("v3.pt")), UntrustedCheckpoint);
  attn::test::TrustArchives trust;
  CheckpointReader reader(f.path("v3.pt"));
  CHECK(reader.header().format == 3);
  auto copy = build_classifier(f.cfg.model, 5, 3);
  torch::optim::AdamW copy_opt(copy->parameters(), torch::optim::AdamWOptions(1e-3));
  reader.load_model(*copy);
  reader.load_optimizer(copy_opt);
  for (const auto& item : model->named_parameters()) CHECK(torch::equal(item.value(), copy->named_parameters()[item.key()]));
  CHECK(same_adamw_state(*opt, *model, copy_opt, *copy));
  reader.restore_rng();
  CHECK(torch::equal(torch::rand({3}), rng_next));
}

TEST_CASE("a checksum-less (format 2) checkpoint with a byte flipped is refused or loads, never crashes",
          "[checkpoint][errors]") {
  attn::test::seed();
  Fixture f;
  attn::test::TrustArchives trust;
  auto model = build_classifier(f.cfg.model, 5, 3);
  auto h = f.header();
  h.format = 2;
  const auto good = attn::test::archive_checkpoint(h, *model, nullptr);  // the archive alone, as formats 1-2 were written
  const auto path = f.path("flipped.pt");
  int refused = 0, loaded = 0, tried = 0;
  // Each byte flipped by a random nonzero mask: every byte of the end records (the last 64), every
  // third byte of the central directory before them (the rest of the last 2 KiB: its entries differ
  // in length, so across them every field is hit), and every 61st byte of the records. Each try
  // forks (a checksum-less file is first read in a child), ~15 ms: ~1,250 tries, not 3,200.
  const auto step = [&](size_t i) -> size_t {
    const size_t from_end = good.size() - i;
    return from_end <= 64 ? 1 : from_end <= 2048 ? 3 : 61;
  };
  for (size_t i = 0; i < good.size(); i += step(i)) {
    auto bytes = good;
    bytes[i] = static_cast<char>(bytes[i] ^ static_cast<char>(1 + torch::randint(255, {1}).item<int>()));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    ++tried;
    try {
      CheckpointReader reader(path);
      auto other = build_classifier(f.cfg.model, 5, 3);
      reader.load_model(*other);
      ++loaded;  // a byte the archive does not depend on (padding, a comment)
    } catch (const CheckpointError&) {
      ++refused;
    }
  }
  INFO(refused << " refused, " << loaded << " loaded of " << tried);
  CHECK(refused + loaded == tried);
  CHECK(refused > tried / 2);
}

TEST_CASE("a format-2 file whose deflated record is damaged is refused before LibTorch reads it",
          "[checkpoint][errors]") {
  // Found by fuzz_checkpoint (tests/fuzz/corpus/checkpoint/): a record switched to "deflated" whose
  // bytes no longer match its CRC. LibTorch inflates it unchecked and its TorchScript type parser
  // then crashes, at random (heap garbage), so a forked probe cannot be trusted to catch it: the
  // zip check inflates the record and compares the CRC first.
  const std::string path = std::string(ATTN_SOURCE_DIR) + "/tests/fuzz/corpus/checkpoint/crash-typeparser-segv-v2";
  REQUIRE(std::filesystem::exists(path));
  attn::test::TrustArchives trust;
  for (int i = 0; i < 5; ++i)
    CHECK_THROWS_WITH(attn::CheckpointReader(path), Catch::Contains("record checksum mismatch"));
}

TEST_CASE("a format-2 file with deflated records loads, and a flipped byte in one is refused", "[checkpoint][errors]") {
  // LibTorch writes stored records, but a zip may deflate them (this one was re-packed by Python's
  // zipfile from an attn checkpoint); the CRC check inflates them rather than refusing the file.
  const std::string path = std::string(ATTN_SOURCE_DIR) + "/tests/fuzz/corpus/checkpoint/valid-deflated-v2";
  REQUIRE(std::filesystem::exists(path));
  attn::test::TrustArchives trust;
  CheckpointReader reader(path);
  CHECK(reader.integrity() == "no checksum (format 2)");
  CHECK(reader.header().state.step == 313);
  auto model = build_classifier(reader.header().config.model, reader.header().vocab.size(),
                                reader.header().labels.size());
  CHECK_NOTHROW(reader.load_model(*model));

  Fixture f;
  auto bytes = bytes_of(path);
  const size_t record = bytes.find("archive/data.pkl");  // the first local header's name
  REQUIRE(record != std::string::npos);
  bytes[record + 40] = static_cast<char>(bytes[record + 40] ^ 0x5a);  // inside its deflated bytes
  std::ofstream(f.path("flipped.pt"), std::ios::binary | std::ios::trunc) << bytes;
  CHECK_THROWS_WITH(CheckpointReader(f.path("flipped.pt")), Catch::Contains("record checksum mismatch"));
}

}  // namespace test_checkpoint
