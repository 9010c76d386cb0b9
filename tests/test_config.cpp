// The config: defaults, JSON round trip, strict reading, overrides, and every validation message.
#include "attn/config/config.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_config {

using namespace attn;
using json = attn::ConfigJson;

namespace {

// Validation of the defaults with some keys changed; returns the error message ("" if none).
std::string error_with(const std::string& assignment, const std::string& also = "") {
  json j = to_json(Config{});
  try {
    apply_override(j, assignment);
    if (!also.empty()) apply_override(j, also);
    validate(config_from_json(j));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the default config is valid and survives a JSON round trip", "[config]") {
  Config c;
  REQUIRE_NOTHROW(validate(c));
  json j = to_json(c);
  CHECK(to_json(config_from_json(j)) == j);
  CHECK(j["train"]["lr"] == 1e-3);
  CHECK(j["model"]["d_model"] == 32);
  CHECK(j["data"]["kind"] == "retrieval");  // the embedded default run: the key-value store
  // Every key listed by config_keys is in the JSON, and nothing else.
  size_t leaves = 0;
  for (const auto& key : config_keys()) {
    std::string pointer = "/" + key;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    json::json_pointer ptr(pointer);
    CHECK(j.contains(ptr));
    if (!j.at(ptr).is_object()) ++leaves;
  }
  size_t flat = j.flatten().size();  // an array flattens to a leaf per element: betas (2), hard_in (4)
  for (const auto& array : {j["train"]["betas"], j["model"]["hard_in"]}) flat -= array.size() - 1;
  CHECK(leaves == flat);
}

TEST_CASE("the device is parsed once, when the config is read, and written back as it was spelt", "[config]") {
  using Kind = DeviceChoice::Kind;
  for (const auto& [name, want] : std::vector<std::pair<std::string, DeviceChoice>>{
           {"auto", {Kind::Auto, -1}}, {"cpu", {Kind::Cpu, -1}}, {"cuda", {Kind::Cuda, -1}},
           {"cuda:0", {Kind::Cuda, 0}}, {"cuda:12", {Kind::Cuda, 12}}}) {
    INFO(name);
    const auto c = config_from_json(json::parse("{\"device\": \"" + name + "\"}"));
    CHECK(c.device == want);
    CHECK(to_json(c)["device"] == name);
  }
  CHECK(Config().device == DeviceChoice{Kind::Auto, -1});
}

TEST_CASE("keys not given keep their defaults", "[config]") {
  auto c = config_from_json(json::parse(R"({"train": {"lr": 0.01}, "seed": 7})"));
  CHECK(c.train.lr == 0.01);
  CHECK(c.seed == 7);
  CHECK(c.train.batch_size == Config{}.train.batch_size);
  CHECK(c.model.attention == AttentionMode::Soft);
}

TEST_CASE("an unknown key names its path and the closest known key", "[config][errors]") {
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"train": {"lr_shedule": "cosine"}})")),
                    "train.lr_shedule: unknown key; did you mean train.schedule?");
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"modle": {}})")),
                    "modle: unknown key; did you mean model?");
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"model": {"xyzzy": 1}})")),
                    Catch::StartsWith("model.xyzzy: unknown key; known keys here: d_model, heads"));
}

TEST_CASE("a wrong type names the path and the value", "[config][errors]") {
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"train": {"lr": "fast"}})")),
                    "train.lr: expected a number, got a string (\"fast\")");
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"model": {"layers": 1.5}})")),
                    "model.layers: expected an integer, got a number (1.5)");
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"seed": -1})")),
                    "seed: expected a non-negative integer, got a number (-1)");
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"data": 3})")),
                    "data: expected an object, got a number (3)");
  CHECK_THROWS_WITH(config_from_json(json::parse(R"({"train": {"betas": [0.9, "x"]}})")),
                    "train.betas[1]: expected a number, got a string (\"x\")");
}

TEST_CASE("every range and choice is checked, naming the path, the value and what is allowed",
          "[config][errors]") {
  CHECK(error_with("model.heads=3") == "model.heads: must divide model.d_model (32); got 3");
  CHECK(error_with("model.attention=medium") ==
        "model.attention: must be one of \"soft\", \"hard\"; got \"medium\"");
  CHECK(error_with("train.lr=0") == "train.lr: must be positive; got 0");
  CHECK(error_with("train.lr=-0.5") == "train.lr: must be positive; got -0.5");
  CHECK(error_with("data.valid_fraction=1.5") == "data.valid_fraction: must be in (0, 1); got 1.5");
  CHECK(error_with("data.kind=imdb") ==
        "data.path: data.kind \"imdb\" reads files, so data.path must name them (e.g. --set data.path=DIR)");
  CHECK(error_with("device=gpu") == "device: must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\"; got \"gpu\"");
  CHECK(error_with("device=cuda:1").empty());
  CHECK(error_with("device=cuda:").substr(0, 15) == "device: must be");
  CHECK(error_with("device=cuda:-1").substr(0, 15) == "device: must be");
  CHECK(error_with("device=CPU").substr(0, 15) == "device: must be");
  CHECK(error_with("precision=fp16") == "precision: must be one of \"fp32\", \"bf16\"; got \"fp16\"");
  CHECK(error_with("precision=bf16").empty());
  CHECK(error_with("train.batch_tokens=-1") ==
        "train.batch_tokens: must be 0 (batches of batch_size sets) or positive; got -1");
  CHECK(error_with("train.batch_tokens=4000").empty());
  CHECK(error_with("train.batch_tokens=4000", "data.fixed_length=true").substr(0, 55) ==
        "train.batch_tokens: counts each batch's longest set, bu");
  CHECK(error_with("train.schedule=inverse_sqrt") ==
        "train.warmup_steps: the inverse_sqrt schedule needs warmup_steps > 0; got 0");
  CHECK(error_with("train.betas=[0.9]") == "train.betas: must be two numbers in [0, 1); got [0.9]");
  CHECK(error_with("model.max_positions=100").empty());  // no positions: no table to outgrow
  CHECK(error_with("model.max_positions=100", "model.positions=sinusoidal") ==
        "model.max_positions: must be at least data.max_len (200); got 100");
  CHECK(error_with("data.eval_max_len=20000", "model.positions=learned") ==
        "model.max_positions: must be at least data.eval_max_len (20000); got 10000");
  CHECK(error_with("data.eval_max_len=-1") == "data.eval_max_len: must be 0 (as data.max_len) or positive; got -1");
  CHECK(error_with("data.eval_max_len=300", "data.fixed_length=true") ==
        "data.eval_max_len: data.fixed_length pads every batch to data.max_len (200), so eval_max_len must be 0 "
        "or the same; got 300");
  {
    json j = to_json(Config{});
    for (const char* a : {"task=seq2seq", "data.kind=sort", "data.eval_max_len=300"}) apply_override(j, a);
    CHECK_THROWS_WITH(validate(config_from_json(j)),
                      "data.eval_max_len: for classifiers (seq2seq uses data.valid_max_len); got 300");
  }
  CHECK(error_with("model.dropout=1") == "model.dropout: must be in [0, 1); got 1");
  CHECK(error_with("train.grad_accum=0") == "train.grad_accum: must be at least 1; got 0");
  CHECK(error_with("model.beta_schedule=exponential") ==
        "model.beta_end: must be the last beta of beta_schedule \"exponential\", a positive number (e.g. 20); got 0");
  CHECK(error_with("model.beta_schedule=cosine") ==
        "model.beta_schedule: must be one of \"constant\", \"linear\", \"exponential\"; got \"cosine\"");
  CHECK(error_with("model.beta_schedule=linear", "model.beta_end=20").empty());
  CHECK(error_with("model.hard_in=[\"cross\",\"self\"]") ==
        "model.hard_in[1]: must be one of \"encoder\", \"decoder\", \"cross\", \"pooling\"; got \"self\"");
  CHECK(error_with("model.hard_in=cross") ==
        "model.hard_in: expected an array of strings, got a string (\"cross\"); write [\"cross\"]");
  CHECK(error_with("train.metric=hard_accuracy").empty());
  CHECK(error_with("train.metric=hard_bleu") ==
        "train.metric: must be one of \"accuracy\", \"loss\", \"hard_accuracy\", \"hard_loss\"; got \"hard_bleu\"");
  CHECK(error_with("model.pooling=sum") ==
        "model.pooling: must be one of \"max\", \"mean\", \"attention\"; got \"sum\"");
  // threads: bounded by the machine (thousands of threads made LibTorch's pool stall for minutes,
  // and a value past 2^31 wrapped when handed to it).
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string bound = "threads: must be at most 4 x this machine's " + std::to_string(cores) + " cores (" +
                            std::to_string(4 * cores) + "); 0 uses every core; got ";
  CHECK(error_with("threads=" + std::to_string(4 * cores + 1)) == bound + std::to_string(4 * cores + 1));
  CHECK(error_with("threads=2147483648") == bound + "2147483648");
  CHECK(error_with("threads=" + std::to_string(4 * cores)).empty());
}

TEST_CASE("overrides given with --set use the same paths and checks", "[config]") {
  json j = json::object();
  apply_override(j, "train.lr=3e-4");
  apply_override(j, "model.attention=hard");  // a bare word is a string
  apply_override(j, "data.mask_padding=false");
  apply_override(j, "train.betas=[0.8, 0.98]");
  auto c = config_from_json(j);
  CHECK(c.train.lr == 3e-4);
  CHECK(c.model.attention == AttentionMode::Hard);
  CHECK_FALSE(c.data.mask_padding);
  CHECK(c.train.betas == std::vector<double>{0.8, 0.98});
  CHECK_THROWS_WITH(apply_override(j, "train.lrr=1"), "--set train.lrr: unknown key; did you mean train.lr?");
  CHECK_THROWS_WITH(apply_override(j, "lr"), "--set lr: expected key.path=value, e.g. train.lr=3e-4");
  apply_override(j, "train.epochs=ten");
  CHECK_THROWS_WITH(config_from_json(j), "train.epochs: expected an integer, got a string (\"ten\")");
}

TEST_CASE("load_config names the file in every error", "[config][errors]") {
  const std::string path = "attn_test_config.json";
  CHECK_THROWS_WITH(load_config("/nonexistent/x.json"),
                    "/nonexistent/x.json: cannot open the config file (does it exist?)");
  std::ofstream(path) << R"({"train": {"lr": 0.01,}})";
  CHECK_THROWS_WITH(load_config(path), Catch::StartsWith(path + ": not valid JSON:"));
  // Found by fuzz_config: a number too large for a double, and invalid UTF-8 in an override,
  // escaped as other exceptions.
  std::ofstream(path) << R"({"train": {"lr": 1)" << std::string(400, '7') << "}}";
  CHECK_THROWS_WITH(load_config(path), Catch::StartsWith(path + ": not valid JSON:"));
  std::ofstream(path) << "5";  // found by fuzz_config: an override on a config that is no object
  CHECK_THROWS_WITH(load_config(path, {"train.epochs=3"}),
                    path + ": a config is a JSON object ({...}); got a number (5)");
  std::ofstream(path) << R"({"train": {"epochs": 3}})";
  CHECK_THROWS_WITH(load_config(path, {"train.epochs=\x97"}),
                    Catch::Contains("--set: not valid UTF-8 (byte 13 of the override)"));
  CHECK(load_config(path, {"train.lr=0.5"}).train.lr == 0.5);
  CHECK(load_config(path).train.epochs == 3);
  CHECK_THROWS_WITH(load_config(path, {"train.epochs=0"}),
                    path + ": train.epochs: must be positive; got 0");
  std::remove(path.c_str());
}

}  // namespace test_config
