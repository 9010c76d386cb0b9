// What a release wrote, the next one reads: tests/fixtures/release_run is a run directory (its
// config.json, run.json, metrics.jsonl and checkpoints) that the attn of 2026-12-07 (commit
// 6371ed9, the last before the config's choices became enums) trained, from the config
// tests/fixtures/release_config.json. The current binary validates the config, reads the
// checkpoint's config as the same JSON, measures the best checkpoint as that run measured it,
// and resumes the run.
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <fstream>

#include "attn/config/config.h"
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_compat {

using namespace attn::test;
using nlohmann::json;

namespace {

const fs::path kFixtures = fs::path(ATTN_SOURCE_DIR) / "tests" / "fixtures";

json read_json(const fs::path& p) { return json::parse(slurp(p)); }

// `written` less the keys that the release did not have (keys added since), each of which must
// hold its default: a new key leaves what an old config means unchanged.
template <class J>
J less_new_keys(J written, const J& release, const J& defaults, const std::string& where = "") {
  for (auto it = written.begin(); it != written.end();) {
    const std::string path = where + it.key();
    if (!release.contains(it.key())) {
      INFO("a key added since the release: " << path);
      CHECK(it.value() == defaults.at(it.key()));
      it = written.erase(it);
      continue;
    }
    if (it.value().is_object())
      it.value() = less_new_keys(it.value(), release.at(it.key()), defaults.at(it.key()), path + ".");
    ++it;
  }
  return written;
}

template <class J>
J less_new_keys(const J& written, const J& release) {
  return less_new_keys(written, release, J(attn::to_json(attn::Config{})));
}

}  // namespace

TEST_CASE("compat: a config and a run's config.json of the last release read and write back as the same JSON, "
          "keys added since at their defaults",
          "[cli][compat]") {
  for (const auto& file : {kFixtures / "release_config.json", kFixtures / "release_run" / "config.json"}) {
    INFO(file.string());
    const auto j = attn::ConfigJson::parse(slurp(file));
    const auto config = attn::config_from_json(j);
    attn::validate(config);
    if (file.filename() == "config.json") CHECK(less_new_keys(attn::to_json(config), j) == j);  // resolved, whole
    Sandbox s;
    CHECK(s.attn("config validate '" + file.string() + "'").rc == 0);
  }
}

TEST_CASE("compat: the last release's best checkpoint loads and measures what its run recorded", "[cli][compat]") {
  Sandbox s;
  const auto run = kFixtures / "release_run";
  const auto inspect = s.attn("inspect --json '" + (run / "checkpoints" / "best.pt").string() + "'");
  REQUIRE(inspect.rc == 0);
  const auto header = json::parse(inspect.out);
  CHECK(less_new_keys(header["config"], read_json(run / "config.json")) == read_json(run / "config.json"));
  // The validation record of the best checkpoint's step, against eval on the same split.
  json best;
  for (const auto& r : read_jsonl(run / "metrics.jsonl"))
    if (r.value("kind", "") == "valid" && r.value("step", -1) == header["step"].get<int64_t>()) best = r;
  REQUIRE(best.is_object());
  const auto eval = s.attn("eval '" + run.string() + "' --split valid --json");
  REQUIRE(eval.rc == 0);
  const auto got = json::parse(eval.out);
  // Another machine's BLAS kernel may change the last digits of the loss, not the answers.
  CHECK(got["accuracy"].get<double>() == Approx(best["accuracy"].get<double>()).margin(1e-9));
  CHECK(got["loss"].get<double>() == Approx(best["loss"].get<double>()).epsilon(1e-5));
}

TEST_CASE("compat: the last release's run resumes where it stopped and goes on to a longer schedule",
          "[cli][compat]") {
  Sandbox s;
  fs::copy(kFixtures / "release_run", s.path("run"), fs::copy_options::recursive);
  fs::remove(s.path("run/run.lock"));  // none is committed; a stale one would be refused
  const auto before = read_json(s.path("run/config.json"));
  const auto steps = [&] {
    int64_t last = 0;
    for (const auto& r : read_jsonl(s.path("run/metrics.jsonl")))
      if (r.value("kind", "") == "valid") last = std::max<int64_t>(last, r.value("step", 0));
    return last;
  };
  const int64_t stopped = steps();
  REQUIRE(stopped > 0);
  const auto r = s.attn("train --out run --resume --set train.epochs=3");
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("resuming from") && Catch::Contains("at step " + std::to_string(stopped)));
  CHECK(steps() == stopped * 3 / 2);  // 2 epochs recorded, 3 now
  auto after = read_json(s.path("run/config.json"));
  CHECK(after["train"]["epochs"] == 3);
  after["train"]["epochs"] = before["train"]["epochs"];
  CHECK(less_new_keys(after, before) == before);  // every other setting, choices included, as the release wrote it
}

}  // namespace test_compat
