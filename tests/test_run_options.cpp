// What the README and docs promise about a run, each checked through the binary where a user
// meets it: the first line of the run log, train.keep_last, train.patience, --resume over a
// damaged newest checkpoint, device "cuda" on a CPU-only build, eval / predict --attention, and
// checkpoints of format 1 (before checksums) still opening.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "attn/io/checkpoint.h"
#include "attn/io/checkpoint_format.h"
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_run_options {

using namespace attn;
using namespace attn::test;
using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> names(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(fs::path(p).filename().string());
  return out;
}

// `path`'s model and header written back as attn's format 1 wrote them: the LibTorch archive alone
// (no checksum trailer), a header without the fields later formats added (codecs, the skipped
// steps and the world size).
void rewrite_as_format_1(const std::string& path, const std::string& out) {
  CheckpointReader reader(path);
  auto header = reader.header();
  auto model = build_classifier(header.config.model, static_cast<int64_t>(header.vocab.size()),
                                static_cast<int64_t>(header.labels.size()));
  reader.load_model(*model);
  header.format = 1;
  auto j = checkpoint_format::header_json(header);
  j.erase("codecs");
  j["state"].erase("skipped");
  j["state"].erase("world_size");
  torch::serialize::OutputArchive archive;
  archive.write("header", c10::IValue(j.dump()));
  torch::serialize::OutputArchive weights;
  model->save(weights);
  archive.write("model", weights);
  std::ostringstream bytes;
  archive.save_to(bytes);
  std::ofstream(out, std::ios::binary) << bytes.str();
}

}  // namespace

TEST_CASE("the run log starts with versions, device, precision, threads, seed, a config hash and the run directory",
          "[cli][log]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out a --set train.max_steps=2").rc == 0);
  REQUIRE(s.attn("train " + s.config + " --out b --set train.max_steps=2").rc == 0);
  REQUIRE(s.attn("train " + s.config + " --out c --set train.max_steps=2 --set seed=4").rc == 0);
  const std::regex first(
      R"(\[run\] attn [0-9.]+, LibTorch [0-9.]+, (?:CPU only|CUDA available), BLAS .+ \| device cpu \| fp32(?: on oneDNN)? \| 1 threads \| )"
      R"(seed ([0-9]+) \| config hash ([0-9a-f]{16}) \| out (\S+)$)");
  std::map<std::string, std::string> hash;
  for (const std::string run : {"a", "b", "c"}) {
    const auto log = lines_of(slurp(s.dir / run / "train.log"));
    REQUIRE_FALSE(log.empty());
    INFO(log.front());
    std::smatch m;
    REQUIRE(std::regex_search(log.front(), m, first));
    CHECK(m[1] == (run == "c" ? "4" : "3"));
    CHECK(fs::path(m[3].str()).filename() == run);
    hash[run] = m[2];
  }
  CHECK(hash["a"] == hash["b"]);  // the same config, the same hash
  CHECK(hash["a"] != hash["c"]);  // another seed, another hash
}

TEST_CASE("train.keep_last keeps the newest step checkpoints besides best.pt", "[cli][checkpoint]") {
  Sandbox s;
  // 114 steps, a checkpoint every 10 and at each validation (every 19): 16 in all.
  const std::string every = " --set train.save_every=10 --set train.eval_every=19";
  REQUIRE(s.attn("train " + s.config + " --out all" + every + " --set train.keep_last=100").rc == 0);
  REQUIRE(s.attn("train " + s.config + " --out three" + every + " --set train.keep_last=3").rc == 0);
  const auto all = names(list_step_checkpoints(s.path("all/checkpoints")));
  const auto three = names(list_step_checkpoints(s.path("three/checkpoints")));
  REQUIRE(all.size() > 3);
  CHECK(three == std::vector<std::string>(all.begin(), all.begin() + 3));  // the newest three
  CHECK(three.front() == "step_00000114.pt");
  CHECK(fs::exists(s.dir / "three/checkpoints/best.pt"));
  check_same_weights(s.path("all/checkpoints/best.pt"), s.path("three/checkpoints/best.pt"));
}

TEST_CASE("train.patience stops the run after that many validations without improvement", "[cli][train]") {
  Sandbox s;
  // A validation every 2 steps: 57 in a full run; the accuracy cannot improve at every one.
  auto r = s.attn("train " + s.config + " --out run --set train.eval_every=2 --set train.patience=2");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("[train] early stop: no better validation accuracy in 2 evaluations"));
  const auto steps = json::parse(r.out).at("steps").get<int64_t>();
  CHECK(steps < 114);
  // metrics.jsonl: the run ended at the second validation that did not beat the best before it.
  std::vector<double> valid;
  for (const auto& rec : read_jsonl(s.dir / "run/metrics.jsonl"))
    if (rec["kind"] == "valid") valid.push_back(rec["accuracy"].get<double>());
  REQUIRE(valid.size() >= 3);
  CHECK(valid.size() == static_cast<size_t>(steps / 2));
  const double best_before = *std::max_element(valid.begin(), valid.end() - 2);
  CHECK(valid[valid.size() - 1] <= best_before);
  CHECK(valid[valid.size() - 2] <= best_before);
  // and not at an earlier pair: the rule stops at the first one.
  int stale = 0;
  double best = -1;
  for (size_t i = 0; i + 2 < valid.size(); ++i) {
    stale = valid[i] > best ? 0 : stale + 1;
    best = std::max(best, valid[i]);
    CHECK(stale < 2);
  }
}

TEST_CASE("resume passes over a damaged newest checkpoint to the one before and ends bit-identical",
          "[cli][resume][checkpoint]") {
  Sandbox s;
  const std::string every = " --set train.save_every=4";
  REQUIRE(s.attn("train " + s.config + " --out whole" + every).rc == 0);
  REQUIRE(s.attn("train " + s.config + " --out parts" + every + " --set train.max_steps=12").rc == 0);
  REQUIRE(names(list_step_checkpoints(s.path("parts/checkpoints"))) ==
          std::vector<std::string>{"step_00000012.pt", "step_00000008.pt"});
  {  // one byte in the middle of the newest flipped, as a bad disk would
    std::fstream f(s.path("parts/checkpoints/step_00000012.pt"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto middle = static_cast<std::streamoff>(f.tellg()) / 2;
    f.seekg(middle);
    char c = 0;
    f.read(&c, 1);
    f.seekp(middle);
    c = static_cast<char>(c ^ 0x10);
    f.write(&c, 1);
  }
  auto resumed = s.attn("train " + s.config + " --out parts --resume" + every + " --set train.max_steps=0");
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("step_00000012.pt: damaged checkpoint") &&
                              Catch::Contains("trying an older checkpoint") &&
                              Catch::Contains("step_00000008.pt at step 8"));
  check_same_weights(list_step_checkpoints(s.path("whole/checkpoints")).front(),
                     list_step_checkpoints(s.path("parts/checkpoints")).front());
}

TEST_CASE("device cuda on a build or machine without CUDA is an error, never a run on the CPU", "[cli][errors]") {
  if (torch::cuda::is_available()) {
    WARN("not checked: this machine has CUDA");
    return;
  }
  Sandbox s;
  auto r = s.attn("train " + s.config + " --out gpu --set device=cuda");
  INFO(r.err);
  CHECK(r.rc == 1);  // a failure of the machine, not of the config (exit 2)
  CHECK_THAT(r.err, Catch::Contains("device \"cuda\": CUDA is not available") && Catch::Contains("device=cpu"));
  CHECK(lines_of(r.err).size() == 1);
  CHECK_FALSE(fs::exists(s.dir / "gpu" / "checkpoints"));
}

TEST_CASE("eval and predict --attention hard run the checkpoint's model with hard attention", "[cli][attention]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out soft").rc == 0);
  REQUIRE(s.attn("train " + s.config + " --out hard --set model.attention=hard").rc == 0);
  auto eval = [&](const std::string& args) {
    auto r = s.attn("eval " + args + " --json");
    INFO(r.err);
    REQUIRE(r.rc == 0);
    return json::parse(r.out);
  };
  const auto soft = eval("soft"), soft_as_hard = eval("soft --attention hard");
  CHECK(soft["attention"] == "soft");
  CHECK(soft_as_hard["attention"] == "hard");
  CHECK(soft_as_hard["loss"] != soft["loss"]);  // the flag reaches the model
  // A model trained hard: --attention hard is what it runs anyway, soft is another model.
  const auto hard = eval("hard"), hard_as_hard = eval("hard --attention hard"), hard_as_soft = eval("hard --attention soft");
  CHECK(hard["attention"] == "hard");
  CHECK(hard_as_hard["loss"] == hard["loss"]);
  CHECK(hard_as_hard["accuracy"] == hard["accuracy"]);
  CHECK(hard_as_soft["loss"] != hard["loss"]);

  const std::string input = "s1 s1 s1 s1 s2 s3 s4 s5\ns0 s2 s2 s2 s2 s2 s1 s3\ns4 s4 s0 s1 s4 s2 s4 s5\n";
  auto predict = [&](const std::string& args) {
    auto r = s.attn("predict " + args, input);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    REQUIRE(lines_of(r.out).size() == 3);
    return r.out;
  };
  CHECK(predict("hard --attention hard") == predict("hard"));
  CHECK(predict("soft --attention hard") != predict("soft"));
  CHECK(predict("soft --attention soft") == predict("soft"));
}

TEST_CASE("a beta schedule sharpens attention over the run, validations measure the model hard too, and best.pt "
          "evaluates at the beta it was trained at",
          "[cli][hard]") {
  Sandbox s;
  const auto r = s.attn("train " + s.config +
                        " --out run --set model.pooling=attention --set model.beta_schedule=exponential"
                        " --set model.beta_end=8 --set train.metric=hard_accuracy --set train.log_every=10");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  double last_beta = 0;
  std::vector<json> valid;
  json test;
  for (const auto& rec : read_jsonl(s.dir / "run/metrics.jsonl")) {
    if (rec["kind"] == "train") {
      CHECK(rec["beta"].get<double>() > last_beta);  // every progress record: beta only grows
      last_beta = rec["beta"].get<double>();
    }
    if (rec["kind"] == "valid") valid.push_back(rec);
    if (rec["kind"] == "test") test = rec;
  }
  CHECK(last_beta == Approx(8));
  REQUIRE(valid.size() == 3);
  for (const auto& v : valid) {  // each validation: the model as it trains, and the same with hard attention
    CHECK(v.contains("hard_accuracy"));
    CHECK(v.contains("hard_loss"));
  }
  CHECK(test.contains("hard_accuracy"));
  CHECK(r.err.find("| hard: loss") != std::string::npos);

  // best.pt was chosen by hard_accuracy and holds the beta of its step: evaluated again, soft and
  // hard, it gives the metrics its validation recorded.
  CheckpointReader best((s.dir / "run/checkpoints/best.pt").string());
  const auto& h = best.header();
  CHECK(h.state.beta > 0.25);  // above the start, 1/sqrt(8)
  CHECK(h.state.beta <= 8);
  json at_best;
  for (const auto& v : valid)
    if (v["step"] == h.state.step) at_best = v;
  REQUIRE(at_best.is_object());
  CHECK(at_best["best"] == true);
  auto eval = [&](const std::string& args) {
    auto e = s.attn("eval run --split valid --json" + args);
    INFO(e.err);
    REQUIRE(e.rc == 0);
    return json::parse(e.out);
  };
  const auto soft = eval(""), hard = eval(" --attention hard");
  CHECK(soft["loss"].get<double>() == Approx(at_best["loss"].get<double>()).epsilon(1e-9));
  CHECK(soft["accuracy"] == at_best["accuracy"]);
  CHECK(hard["loss"].get<double>() == Approx(at_best["hard_loss"].get<double>()).epsilon(1e-9));
  CHECK(hard["accuracy"] == at_best["hard_accuracy"]);
}

TEST_CASE("a format-1 checkpoint (a TorchScript archive, the first header) opens when trusted, with the same metrics",
          "[cli][checkpoint]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out run").rc == 0);
  rewrite_as_format_1(s.path("run/checkpoints/best.pt"), s.path("old.pt"));
  // An archive can hold code that LibTorch's reader runs: refused unless the user trusts it.
  auto refused = s.attn("inspect old.pt");
  CHECK(refused.rc == 2);
  CHECK_THAT(refused.err, Catch::Contains("--trust-checkpoint"));
  auto inspect = s.attn("inspect old.pt --trust-checkpoint");
  INFO(inspect.err);
  REQUIRE(inspect.rc == 0);
  CHECK_THAT(inspect.out, Catch::Contains("no checksum (format 1)"));
  auto now = s.attn("eval run/checkpoints/best.pt --json"), old = s.attn("eval old.pt --json --trust-checkpoint");
  INFO(old.err);
  REQUIRE(old.rc == 0);
  const auto a = json::parse(now.out), b = json::parse(old.out);
  CHECK(b["accuracy"] == a["accuracy"]);
  CHECK(b["loss"] == a["loss"]);
  CHECK(b["count"] == a["count"]);
}

}  // namespace test_run_options

namespace test_run_options {

TEST_CASE("a shipped config whose data is not there names the file and the command that fetches it",
          "[cli][errors][data]") {
  Sandbox s;  // its directory holds no data/: the shipped configs' relative paths lead nowhere
  auto multi30k = s.attn("train " + (fs::path(ATTN_SOURCE_DIR) / "configs/multi30k_de_en.json").string() + " --out m");
  CHECK(multi30k.rc == 2);
  CHECK_THAT(multi30k.err, Catch::Contains("data/multi30k/train.de.gz: no such file; `bash scripts/get_data.sh "
                                           "multi30k` fetches Multi30k into data/multi30k"));
  auto imdb = s.attn("train " + (fs::path(ATTN_SOURCE_DIR) / "configs/imdb.json").string() + " --out i");
  CHECK(imdb.rc == 2);
  CHECK_THAT(imdb.err, Catch::Contains("no such directory") && Catch::Contains("`bash scripts/get_data.sh imdb`"));
  CHECK(lines_of(imdb.err).size() == 1);
  CHECK_FALSE(fs::exists(s.dir / "m" / "checkpoints"));
}

}  // namespace test_run_options
