// attn average through the binary: the weights written are the mean of the inputs' (float64
// mean, as fairseq's average_checkpoints.py), the file is a checkpoint every command opens, and
// what cannot be averaged (one input, checkpoints of two models, a file that exists) is one
// clear error.
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_average {

using namespace attn;
using namespace attn::test;

TEST_CASE("attn average RUN --last 3 writes the mean of the run's last three checkpoints, which eval opens",
          "[cli][average]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out run --set train.keep_last=3").rc == 0);
  const auto steps = list_step_checkpoints(s.path("run/checkpoints"));  // newest first
  REQUIRE(steps.size() == 3);
  auto r = s.attn("average run --last 3");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto out = s.path("run/checkpoints/averaged.pt");
  CHECK(r.out == "run/checkpoints/averaged.pt\n");  // as the input was named
  const auto got = weights(out);
  std::vector<std::map<std::string, torch::Tensor>> inputs;
  for (const auto& path : steps) inputs.push_back(weights(path));
  REQUIRE(got.size() == inputs[0].size());
  for (const auto& [name, t] : got) {
    INFO(name);
    auto want = torch::zeros_like(t, torch::kFloat64);
    for (const auto& w : inputs) want += w.at(name).to(torch::kFloat64);
    want = (want / 3.0).to(t.scalar_type());
    CHECK(torch::equal(t, want));
    CHECK_FALSE(torch::equal(t, inputs[0].at(name)));  // an average, not a copy of one of them
  }
  CheckpointReader reader(out);
  CHECK(reader.header().state.step == CheckpointReader(steps[0]).header().state.step);  // the newest's header
  CHECK(reader.header().metrics["averaged_from"].size() == 3);
  auto eval = s.attn("eval run/checkpoints/averaged.pt --json");
  INFO(eval.err);
  CHECK(eval.rc == 0);
  CHECK(json::parse(eval.out)["accuracy"].get<double>() > 0.5);  // majority of 6 symbols: a working model
}

TEST_CASE("attn average refuses one input, checkpoints of different models and an existing file, with a clear "
          "message",
          "[cli][average][errors]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out a --set train.epochs=1").rc == 0);
  REQUIRE(s.attn("train " + s.config + " --out b --set train.epochs=1 --set model.ffn_hidden=24").rc == 0);
  auto r = s.attn("average a/checkpoints/best.pt --out x.pt");
  CHECK(r.rc != 0);
  CHECK_THAT(r.err, Catch::Contains("two checkpoints or more"));
  r = s.attn("average a b --out x.pt");
  CHECK(r.rc != 0);
  CHECK_THAT(r.err, Catch::Contains("not a checkpoint of the model in") && Catch::Contains("model.ffn_hidden"));
  CHECK_FALSE(fs::exists(s.dir / "x.pt"));
  r = s.attn("average a --last 4");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("--last asks for 4"));
  r = s.attn("average a a/checkpoints/best.pt");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("give --out FILE"));
  REQUIRE(s.attn("average a a --out x.pt").rc == 0);  // the same checkpoint twice: allowed, itself
  check_same_weights(s.path("x.pt"), s.path("a/checkpoints/best.pt"));
  r = s.attn("average a a --out x.pt");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("x.pt exists"));
  CHECK(s.attn("average a a --out x.pt --force").rc == 0);
}

TEST_CASE("train.average_last 3 ends a run with averaged.pt, measured on valid and test", "[cli][average]") {
  Sandbox s;
  auto r = s.attn("train " + s.config + " --out run --set train.keep_last=3 --set train.average_last=3");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("[average] the last 3 checkpoints"));
  // The very file `attn average RUN --last 3` writes from the same three checkpoints.
  REQUIRE(s.attn("average run --last 3 --out by_hand.pt").rc == 0);
  check_same_weights(s.path("run/checkpoints/averaged.pt"), s.path("by_hand.pt"));
  std::map<std::string, json> records;  // kind -> the last record of that kind
  for (const auto& rec : read_jsonl(s.dir / "run/metrics.jsonl")) records[rec.value("kind", "")] = rec;
  REQUIRE(records.count("averaged_valid") == 1);
  REQUIRE(records.count("averaged_test") == 1);
  CHECK(records["averaged_test"]["averaged_from"].size() == 3);
  // What the run recorded is what eval measures on the file it left.
  auto eval = s.attn("eval run/checkpoints/averaged.pt --json");
  INFO(eval.err);
  REQUIRE(eval.rc == 0);
  CHECK(json::parse(eval.out)["accuracy"].get<double>() ==
        Approx(records["averaged_test"]["accuracy"].get<double>()).margin(1e-12));
  CHECK(json::parse(r.out)["averaged_test_accuracy"] == records["averaged_test"]["accuracy"]);
}

TEST_CASE("train.average_last beyond train.keep_last is a config error", "[cli][average][errors]") {
  Sandbox s;
  auto r = s.attn("train " + s.config + " --out run --set train.keep_last=2 --set train.average_last=3");
  CHECK(r.rc != 0);
  CHECK_THAT(r.err, Catch::Contains("train.average_last") && Catch::Contains("keep_last"));
  CHECK_FALSE(fs::exists(s.dir / "run"));
}

}  // namespace test_average
