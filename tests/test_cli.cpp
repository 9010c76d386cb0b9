// The attn binary end to end: train -> checkpoint -> eval -> predict -> inspect, exact resume,
// run directories never overwritten, and bad input answered with one message and exit code 2.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attn/io/checkpoint.h"
#include "attn/io/checkpoint_format.h"
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_cli {

using namespace attn;
using nlohmann::json;
namespace fs = std::filesystem;

using namespace attn::test;

TEST_CASE("train -> checkpoint -> eval -> predict -> inspect through the binary", "[cli][roundtrip]") {
  Sandbox s;
  auto train = s.attn("train " + s.config + " --out run");
  INFO(train.err);
  REQUIRE(train.rc == 0);
  for (const char* f : {"run/config.json", "run/train.log", "run/metrics.jsonl", "run/checkpoints/best.pt"})
    CHECK(fs::exists(s.dir / f));
  auto summary = json::parse(train.out);
  CHECK(summary["test_accuracy"].get<double>() > 0.5);  // 6 classes: chance is 1/6

  // eval of best.pt gives the same metrics as the test evaluation at the end of training.
  json test_record;
  for (const auto& r : read_jsonl(s.dir / "run/metrics.jsonl"))
    if (r["kind"] == "test") test_record = r;
  REQUIRE(!test_record.is_null());
  auto eval = s.attn("eval run --json");
  INFO(eval.err);
  REQUIRE(eval.rc == 0);
  auto metrics = json::parse(eval.out);
  CHECK(metrics["accuracy"].get<double>() == test_record["accuracy"].get<double>());
  CHECK(metrics["loss"].get<double>() == Approx(test_record["loss"].get<double>()).epsilon(1e-12));
  CHECK(metrics["count"] == 300);
  CHECK(metrics["confusion"].size() == 6);
  CHECK(metrics["per_class"].contains("s0"));
  // --max-len cuts the inputs: at the config's max_len it changes nothing, at 2 tokens it does.
  CHECK(json::parse(s.attn("eval run --json --max-len 200").out)["loss"] == metrics["loss"]);
  CHECK(json::parse(s.attn("eval run --json --max-len 2").out)["loss"] != metrics["loss"]);
  // ... and on the validation split, the metrics stored in the checkpoint when it was written.
  auto valid = json::parse(s.attn("eval run/checkpoints/best.pt --split valid --json").out);
  auto stored = json::parse(s.attn("inspect run --json").out)["metrics"];
  CHECK(valid["accuracy"].get<double>() == stored["accuracy"].get<double>());

  // predict: one line in, the label and the class probabilities out.
  auto tsv = s.attn("predict run", "s1 s1 s1 s1 s2 s3 s4 s5\ns0 s2 s2 s2 s2 s2 s1 s3\n");
  INFO(tsv.err);
  REQUIRE(tsv.rc == 0);
  std::istringstream lines(tsv.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    std::istringstream fields(line);
    std::string label, p;
    fields >> label;
    double sum = 0;
    while (fields >> p) sum += std::stod(p);
    CHECK(sum == Approx(1.0).epsilon(1e-4));
    CHECK(label == (n == 1 ? "s1" : "s2"));
  }
  CHECK(n == 2);
  {  // the same through a re-execution onto the best BLAS kernel (attn/kernels/blas_core.h), as on
     // a CPU newer than OpenBLAS's table: standard input reaches the second exec whole
    ScopedEnv pick("ATTN_TEST_BLAS_PICKED", "Prescott");
    auto again = s.attn("predict run", "s1 s1 s1 s1 s2 s3 s4 s5\ns0 s2 s2 s2 s2 s2 s1 s3\n");
    CHECK(again.rc == 0);
    std::istringstream got(again.out);
    std::string a, b;
    std::getline(got, a), std::getline(got, b);
    CHECK(a.substr(0, 3) == "s1\t");
    CHECK(b.substr(0, 3) == "s2\t");
  }
  auto jl = s.attn("predict run --json", "s3 s3 s3 s3 s0 s1 s2 s4\n");
  CHECK(json::parse(jl.out)["label"] == "s3");

  auto inspect = json::parse(s.attn("inspect run --json").out);
  CHECK(inspect["step"] == inspect["best"]["step"]);
  CHECK(inspect["labels"].size() == 6);
  CHECK(inspect["config"]["seed"] == 3);
}

TEST_CASE("a resumed run ends with the same weights, to the bit, as an uninterrupted one",
          "[cli][resume]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out whole").rc == 0);
  // Stop mid-epoch (38 batches per epoch), then resume with the limit lifted.
  REQUIRE(s.attn("train " + s.config + " --out parts --set train.max_steps=50").rc == 0);
  auto resumed = s.attn("train " + s.config + " --out parts --resume --set train.max_steps=0");
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("resuming from") && Catch::Contains("at step 50") &&
                              Catch::Contains("changed on resume: train.max_steps (50 -> 0)"));
  const auto last = list_step_checkpoints(s.path("whole/checkpoints")).front();
  const auto last_resumed = list_step_checkpoints(s.path("parts/checkpoints")).front();
  CHECK(fs::path(last).filename() == fs::path(last_resumed).filename());
  check_same_weights(last, last_resumed);
  // The architecture comes from the checkpoint: a config that changes it is refused.
  auto changed = s.attn("train " + s.config + " --out parts --resume --set model.d_model=32");
  CHECK(changed.rc == 2);
  CHECK_THAT(changed.err, Catch::Contains("--resume: the config changes model.d_model (16 -> 32)"));
}

TEST_CASE("a resume whose epoch now has fewer batches than the checkpoint's position goes on with the next epoch",
          "[cli][resume]") {
  // 38 batches of 32 per epoch; stopped at batch 30; resumed with batches of 128 (10 per epoch),
  // the saved position lies past the end of the epoch: the run must go on, not spin.
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out run --set train.max_steps=30").rc == 0);
  auto resumed = s.attn("train " + s.config + " --out run --resume --set train.batch_size=128 --set train.epochs=20 " +
                            "--set train.max_steps=60",
                        "", 120);
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("past the 10 batches of this config's epoch"));
  CHECK(json::parse(resumed.out).at("steps") == 60);
  CHECK(fs::path(list_step_checkpoints(s.path("run/checkpoints")).front()).filename() == "step_00000060.pt");
}

TEST_CASE("an existing run directory is never overwritten, and --force moves it aside", "[cli][safety]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out run --set train.epochs=1").rc == 0);
  const auto before = slurp(s.dir / "run/checkpoints/best.pt");
  auto again = s.attn("train " + s.config + " --out run --set train.epochs=1");
  CHECK(again.rc == 2);
  CHECK_THAT(again.err, Catch::Contains("run: the run directory exists; use --resume"));
  CHECK(slurp(s.dir / "run/checkpoints/best.pt") == before);
  REQUIRE(s.attn("train " + s.config + " --out run --force --set train.epochs=1 --set seed=4").rc == 0);
  int asides = 0;
  for (const auto& e : fs::directory_iterator(s.dir))
    if (e.path().filename().string().rfind("run.bak-", 0) == 0) {
      ++asides;
      CHECK(slurp(e.path() / "checkpoints/best.pt") == before);
    }
  CHECK(asides == 1);
}

TEST_CASE("bad input gets one clear message, exit code 2, and no run directory", "[cli][errors]") {
  Sandbox s;
  auto missing = s.attn("train " + s.config + " --out run --set data.kind=imdb --set data.path=nowhere");
  CHECK(missing.rc == 2);
  CHECK_THAT(missing.err, Catch::Contains("nowhere/train/neg: no such directory"));
  CHECK_FALSE(fs::exists(s.dir / "run"));

  std::ofstream(s.path("bad.tsv")) << "pos\tfine\nneg\tbad \xc3\x28 byte\n";
  auto utf8 = s.attn("train " + s.config + " --out run --set data.kind=tsv --set data.path=bad.tsv");
  CHECK(utf8.rc == 2);
  CHECK_THAT(utf8.err, Catch::Contains("bad.tsv:2: invalid UTF-8"));
  CHECK_FALSE(fs::exists(s.dir / "run"));

  auto key = s.attn("train " + s.config + " --set train.lr_schedule=cosine");
  CHECK(key.rc == 2);
  CHECK_THAT(key.err, Catch::Contains("--set train.lr_schedule: unknown key; did you mean train.schedule?"));

  std::ofstream(s.path("foreign.pt")) << "PK\x03\x04 not really a zip";
  auto ckpt = s.attn("eval foreign.pt");
  CHECK(ckpt.rc == 2);
  CHECK_THAT(ckpt.err, Catch::Contains("foreign.pt: not a readable checkpoint"));
  CHECK(std::count(ckpt.err.begin(), ckpt.err.end(), '\n') == 1);  // one line

  CHECK(s.attn("train --epochs 3").rc == 2);           // not an option
  CHECK(s.attn("eval").rc == 2);                       // checkpoint missing
  CHECK(s.attn("config validate small.json").rc == 0);
  auto invalid = s.attn("config validate small.json --set model.heads=3");
  CHECK(invalid.rc == 2);
  CHECK_THAT(invalid.err, Catch::Contains("small.json: model.heads: must divide model.d_model (16); got 3"));
}

TEST_CASE("every subcommand has --help with defaults, and config defaults is a valid config",
          "[cli][help]") {
  Sandbox s;
  for (const char* cmd : {"", "train", "eval", "predict", "inspect", "show", "plot", "report", "export", "import",
                          "average", "bleu", "bench decode", "config", "config defaults"}) {
    auto help = s.attn(std::string(cmd) + " --help");
    INFO(cmd);
    CHECK(help.rc == 0);
    CHECK_THAT(help.out, Catch::Contains("Usage"));
  }
  CHECK_THAT(s.attn("eval --help").out, Catch::Contains("test"));  // the default split is shown
  auto defaults = s.attn("config defaults");
  REQUIRE(defaults.rc == 0);
  std::ofstream(s.path("defaults.json")) << defaults.out;
  CHECK(s.attn("config validate defaults.json").rc == 0);
  CHECK(json::parse(defaults.out)["data"]["kind"] == "retrieval");
  // configs/default.json is exactly that, and every config shipped in configs/ is valid.
  CHECK(json::parse(slurp(fs::path(ATTN_SOURCE_DIR) / "configs/default.json")) == json::parse(defaults.out));
  for (const auto& e : fs::directory_iterator(fs::path(ATTN_SOURCE_DIR) / "configs")) {
    if (e.path().extension() != ".json") continue;
    INFO(e.path());
    CHECK(s.attn("config validate --skip-data '" + e.path().string() + "'").rc == 0);
  }
}

TEST_CASE("seq2seq: train -> translate -> eval (BLEU) -> bleu through the binary", "[cli][seq2seq]") {
  Sandbox s;
  // Reverse short sequences of 6 symbols: learnt well enough in a few seconds to translate.
  const auto config = s.path("reverse.json");
  std::ofstream(config) << R"({
    "task": "seq2seq",
    "data": {"kind": "reverse", "set_size": 5, "symbols": 6, "train_size": 3000, "valid_size": 200,
             "test_size": 100, "max_len": 10, "max_target_len": 11},
    "model": {"d_model": 32, "heads": 2, "ffn_hidden": 64, "layers": 1, "positions": "sinusoidal"},
    "train": {"epochs": 6, "batch_size": 32, "lr": 0.003, "warmup_steps": 50, "schedule": "cosine",
              "metric": "bleu"},
    "decode": {"beam_size": 3},
    "threads": 1, "seed": 5})";
  auto train = s.attn("train " + config + " --out run");
  INFO(train.err);
  REQUIRE(train.rc == 0);
  json test_record;
  for (const auto& r : read_jsonl(s.dir / "run/metrics.jsonl"))
    if (r["kind"] == "test") test_record = r;
  REQUIRE(test_record.contains("bleu"));
  CHECK(test_record["bleu"].get<double>() > 50);

  // eval on the test split (beam 3 from the config) repeats the figures of the end of training,
  // writes the translations, and `attn bleu` scores that file against the references the same.
  auto eval = s.attn("eval run --json --hyps hyps.txt");
  INFO(eval.err);
  REQUIRE(eval.rc == 0);
  auto m = json::parse(eval.out);
  for (const char* key : {"loss", "perplexity", "bleu", "bleu_lowercase", "exact_match"}) CHECK(m.contains(key));
  CHECK(m["bleu"].get<double>() == Approx(test_record["bleu"].get<double>()).epsilon(1e-12));
  CHECK(m["beam_size"] == 3);
  CHECK(m["perplexity"].get<double>() == Approx(std::exp(m["loss"].get<double>())));
  REQUIRE(fs::exists(s.dir / "hyps.txt"));
  // The bleu command: a file scored against itself gives 100.
  auto self = s.attn("bleu hyps.txt hyps.txt --json");
  INFO(self.err);
  REQUIRE(self.rc == 0);
  CHECK(json::parse(self.out)["score"].get<double>() == Approx(100.0));
  auto text = s.attn("bleu hyps.txt hyps.txt");
  CHECK_THAT(text.out, Catch::StartsWith("BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000"));

  // predict translates line by line, keeps empty lines as empty outputs, and takes beam flags.
  auto out = s.attn("predict run --beam 1", "0 1 2 3 4\n\n5 4 3\n");
  INFO(out.err);
  REQUIRE(out.rc == 0);
  std::istringstream lines(out.out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  REQUIRE(got.size() == 3);
  CHECK(got[0] == "4 3 2 1 0");
  CHECK(got[1].empty());
  CHECK(got[2] == "3 4 5");
  auto jl = s.attn("predict run --json --beam 2", "1 2 3\n");
  CHECK(json::parse(jl.out)["translation"] == "3 2 1");
  // A symbol never seen in training maps to <unk>, not to a crash.
  CHECK(s.attn("predict run", "1 2 x 3\n").rc == 0);
  // A line longer than the encoder's position table (model.max_positions, 10000) is refused by line.
  std::string long_line;
  for (int i = 0; i < 10001; ++i) long_line += "1 ";
  auto too_long = s.attn("predict run", "1 2\n" + long_line + "\n");
  CHECK(too_long.rc == 2);
  CHECK_THAT(too_long.err, Catch::Contains("stdin:2: 10001 tokens, more than the 10000 positions"));

  auto inspect = json::parse(s.attn("inspect run --json").out);
  CHECK(inspect["task"] == "seq2seq");
  CHECK(inspect["best"]["metric"] == "bleu");
}

TEST_CASE("bleu and seq2seq commands refuse bad input with one message and exit code 2", "[cli][seq2seq][errors]") {
  Sandbox s;
  std::ofstream(s.path("a.txt")) << "one line\ntwo lines\n";
  std::ofstream(s.path("b.txt")) << "one line\n";
  auto r = s.attn("bleu a.txt b.txt");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("a.txt has 2 lines but b.txt has 1"));
  r = s.attn("bleu a.txt missing.txt");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("missing.txt: no such file"));
  // A parallel config whose files differ in length: refused before anything is written.
  std::ofstream(s.path("p.json")) << R"({"task": "seq2seq", "data": {"kind": "parallel", "path": "a.txt",
                                          "target_path": "b.txt"}})";
  r = s.attn("train p.json --out run");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("a.txt has 2 lines but b.txt has 1"));
  CHECK_FALSE(fs::exists(s.dir / "run"));
  // A classifier-only key value in a seq2seq config names the choices.
  std::ofstream(s.path("q.json")) << R"({"task": "seq2seq", "data": {"kind": "imdb"}})";
  r = s.attn("config validate q.json");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("data.kind: must be one of \"sort\", \"copy\", \"reverse\", \"parallel\""));
}

TEST_CASE("eval --precision runs a checkpoint's large products in bf16 or fp32, whatever it trained with",
          "[cli][seq2seq][bf16]") {
  Sandbox s;
  // d_model 128: each block product is over 2^20 multiply-adds, so bf16 rounds it.
  const auto config = s.path("reverse128.json");
  std::ofstream(config) << R"({
    "task": "seq2seq",
    "data": {"kind": "reverse", "set_size": 5, "symbols": 6, "train_size": 600, "valid_size": 100,
             "test_size": 100, "max_len": 10, "max_target_len": 11},
    "model": {"d_model": 128, "heads": 4, "ffn_hidden": 512, "layers": 1, "positions": "sinusoidal"},
    "train": {"max_steps": 3, "batch_size": 32},
    "decode": {"beam_size": 1},
    "threads": 1, "seed": 5})";
  auto train = s.attn("train " + config + " --out run");
  INFO(train.err);
  REQUIRE(train.rc == 0);
  auto loss = [&](const std::string& flags) {
    auto r = s.attn("eval run --json" + flags);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    return json::parse(r.out)["loss"].get<double>();
  };
  const double fp32 = loss(""), bf16 = loss(" --precision bf16");
  CHECK(loss(" --precision fp32") == fp32);  // trained in fp32: the same as without the flag
  CHECK(bf16 != fp32);
  CHECK(std::abs(bf16 - fp32) < 0.01 * fp32);
  auto bad = s.attn("eval run --precision fp16");
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Catch::Contains("--precision"));
}

TEST_CASE("bench decode times cached and uncached decoding of a config's model", "[cli][seq2seq][bench]") {
  Sandbox s;
  const std::string config = (fs::path(ATTN_SOURCE_DIR) / "configs/sort.json").string();
  auto r = s.attn("bench decode --config '" + config + "' --lengths 3,5 --batch 2 --threads 1 --repeats 1 --json");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  auto j = json::parse(r.out);
  REQUIRE(j["rows"].size() == 2);
  CHECK(j["rows"][1]["length"] == 5);
  CHECK(j["rows"][1]["cached_sec"].get<double>() > 0);
  CHECK(j["rows"][1]["uncached_sec"].get<double>() > 0);
  CHECK(s.attn("bench decode --config " + s.config).rc == 2);  // a classifier config: refused
}

TEST_CASE("seq2seq with sentencepiece: a resumed run ends bit-identical, its codec from the checkpoint",
          "[cli][seq2seq][resume]") {
  Sandbox s;
  // A small parallel TSV: German-like words to English-like ones, reordered.
  const char* de[] = {"der", "hund", "die", "katze", "sieht", "den", "ball", "im", "garten", "rot"};
  const char* en[] = {"the", "dog", "the", "cat", "sees", "the", "ball", "in-the", "garden", "red"};
  {
    std::ofstream tsv(s.path("pairs.tsv"));
    for (int i = 0; i < 400; ++i) {
      const int a = i % 10, b = (i * 3 + 1) % 10, c = (i * 7 + 2) % 10;
      tsv << de[a] << " " << de[b] << " " << de[c] << "\t" << en[c] << " " << en[b] << " " << en[a] << "\n";
    }
  }
  const auto config = s.path("spm.json");
  std::ofstream(config) << R"({
    "task": "seq2seq",
    "data": {"kind": "parallel", "path": "pairs.tsv", "tokenizer": "sentencepiece", "subword_model": "bpe",
             "vocab_size": 60, "lowercase": false, "max_len": 30, "max_target_len": 30},
    "model": {"d_model": 16, "heads": 2, "ffn_hidden": 32, "layers": 1, "positions": "sinusoidal",
              "dropout": 0.1},
    "train": {"epochs": 2, "batch_size": 32, "lr": 0.003, "label_smoothing": 0.1},
    "decode": {"beam_size": 2},
    "threads": 1, "seed": 4})";
  auto whole = s.attn("train " + config + " --out whole");
  INFO(whole.err);
  REQUIRE(whole.rc == 0);
  CHECK_THAT(whole.err, Catch::Contains("sentencepiece bpe"));
  REQUIRE(s.attn("train " + config + " --out parts --set train.max_steps=15").rc == 0);
  auto resumed = s.attn("train " + config + " --out parts --resume --set train.max_steps=0");
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("at step 15"));
  const auto last = list_step_checkpoints(s.path("whole/checkpoints")).front();
  const auto last_resumed = list_step_checkpoints(s.path("parts/checkpoints")).front();
  CHECK(fs::path(last).filename() == fs::path(last_resumed).filename());
  check_same_weights(last, last_resumed);
  // The checkpoint is self-contained: its sentencepiece model translates without the data.
  fs::remove(s.path("pairs.tsv"));
  auto out = s.attn("predict whole", "der hund sieht\n");
  INFO(out.err);
  CHECK(out.rc == 0);
  CHECK_FALSE(out.out.empty());
}

TEST_CASE("a checkpoint holding code is refused unless trusted, and nothing in it runs", "[cli][checkpoint][errors]") {
  // tests/fixtures/code-in-archive.pt is a TorchScript archive whose class, when LibTorch's
  // archive reader loads it, writes "AAAAAAAA" into ./attn-canary (make_code_in_archive.py).
  Sandbox s;
  const auto archive = slurp(fs::path(ATTN_SOURCE_DIR) / "tests/fixtures/code-in-archive.pt");
  REQUIRE(archive.compare(0, 4, "PK\x03\x04") == 0);
  std::ofstream(s.path("evil.pt"), std::ios::binary) << checkpoint_format::with_checksum(archive);  // a valid trailer
  const std::string untouched = "xxxxxxxx";
  std::ofstream(s.path("attn-canary"), std::ios::binary) << untouched;
  fs::create_directories(s.dir / "run" / "checkpoints");
  fs::copy_file(s.path("evil.pt"), s.dir / "run" / "checkpoints" / "step_00000010.pt");
  for (const std::string cmd : {"inspect evil.pt", "eval evil.pt", "predict evil.pt -", "train --out run --resume"}) {
    auto r = s.attn(cmd, "some input\n");
    INFO(cmd << ": " << r.err);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("Reading such a file runs code stored in it") &&
                          Catch::Contains("add --trust-checkpoint"));
    CHECK(slurp(s.dir / "attn-canary") == untouched);
  }
  // What the flag guards against: trusted, LibTorch's reader runs the file's code.
  auto trusted = s.attn("inspect evil.pt --trust-checkpoint");
  CHECK(trusted.rc == 2);
  CHECK(slurp(s.dir / "attn-canary") == "AAAAAAAA");
}

TEST_CASE("eval --data evaluates that file, for classifiers and seq2seq, and says so", "[cli][eval]") {
  Sandbox s;
  std::ofstream(s.path("train.tsv")) << [] {
    std::string t;
    for (int i = 0; i < 300; ++i) t += (i % 2 ? "pos\tgood fine nice " : "neg\tbad awful poor ") + std::to_string(i % 7) + "\n";
    return t;
  }();
  std::ofstream(s.path("test.tsv")) << "pos\tgood\nneg\tbad\nneg\tawful\n";
  std::ofstream(s.path("other.tsv")) << "pos\tnice nice\npos\tfine\n";
  REQUIRE(s.attn("train " + s.config + " --out run --set data.kind=tsv --set data.path=train.tsv "
                 "--set data.test_path=test.tsv --set train.epochs=1").rc == 0);
  auto a = json::parse(s.attn("eval run --json --data test.tsv").out);
  auto b = json::parse(s.attn("eval run --json --data other.tsv").out);
  CHECK(a["count"] == 3);
  CHECK(b["count"] == 2);
  CHECK(a["data"] == "test.tsv");
  CHECK(a["split"] == "file");
  auto text = s.attn("eval run --data other.tsv");
  CHECK_THAT(text.out, Catch::Contains("| data other.tsv | 2 examples"));

  std::ofstream(s.path("src.txt")) << "1 2 3\n3 2 1\n";
  std::ofstream(s.path("ref.txt")) << "1 2 3\n1 2 3\n";
  std::ofstream(s.path("pairs.tsv")) << "2 1\t1 2\n";
  std::string src, tgt;
  for (int i = 0; i < 200; ++i) src += std::to_string(i % 3 + 1) + " 2 " + std::to_string(3 - i % 3) + "\n", tgt += "1 2 3\n";
  std::ofstream(s.path("tr.src")) << src;
  std::ofstream(s.path("tr.tgt")) << tgt;
  auto trained = s.attn("train --out sort --set task=seq2seq --set data.kind=parallel --set data.path=tr.src "
                        "--set data.target_path=tr.tgt --set model.d_model=16 --set model.heads=2 "
                        "--set model.ffn_hidden=32 --set model.layers=1 --set train.max_steps=5 --set threads=1");
  INFO(trained.err);
  REQUIRE(trained.rc == 0);
  auto files = json::parse(s.attn("eval sort --json --data src.txt --target ref.txt").out);
  CHECK(files["count"] == 2);
  CHECK(files["target"] == "ref.txt");
  auto pairs = json::parse(s.attn("eval sort --json --data pairs.tsv").out);
  CHECK(pairs["count"] == 1);
}

TEST_CASE("text input: a byte-order mark is dropped, a header line is read as one, swapped columns are named, values "
          "are clipped",
          "[cli][data][errors]") {
  Sandbox s;
  std::string rows;
  for (int i = 0; i < 100; ++i) rows += (i % 2 ? "pos\tgood " : "neg\tbad ") + std::to_string(i) + "\n";
  std::ofstream(s.path("bom.tsv"), std::ios::binary) << "\xEF\xBB\xBF" << rows;
  const std::string tsv = " --set data.kind=tsv --set train.epochs=1 --set data.path=";
  auto bom = s.attn("train " + s.config + " --out bom" + tsv + "bom.tsv");
  INFO(bom.err);
  REQUIRE(bom.rc == 0);
  CHECK(json::parse(s.attn("inspect bom --json").out)["labels"] == json({"neg", "pos"}));  // not "\ufeffneg"

  // A header line naming the columns is read as one (data.header "auto"), whichever their order,
  // and the log says what was chosen.
  std::ofstream(s.path("header.tsv")) << "label\ttext\n" << rows;
  REQUIRE(s.attn("train " + s.config + " --out h" + tsv + "header.tsv").rc == 0);
  CHECK(json::parse(s.attn("inspect h --json").out)["labels"] == json({"neg", "pos"}));  // "label" is no class
  CHECK_THAT(slurp(s.dir / "h/train.log"),
             Catch::Contains("header.tsv: a header line, tab-separated; text: column \"text\" (index 1), label: "
                             "column \"label\" (index 0)"));
  std::string glue_rows = "sentence\tlabel\n";  // GLUE's SST-2 layout
  for (int i = 0; i < 100; ++i) glue_rows += (i % 2 ? "good " : "bad ") + std::to_string(i) + (i % 2 ? "\t1\n" : "\t0\n");
  std::ofstream(s.path("glue.tsv")) << glue_rows;
  REQUIRE(s.attn("train " + s.config + " --out g" + tsv + "glue.tsv").rc == 0);
  CHECK(json::parse(s.attn("inspect g --json").out)["labels"] == json({"0", "1"}));

  std::string swapped;  // text<TAB>label with no header: every sentence a label
  for (int i = 0; i < 200; ++i) swapped += "a long sentence number " + std::to_string(i) + std::string(3000, 'x') + "\t" + (i % 2 ? "pos" : "neg") + "\n";
  std::ofstream(s.path("swapped.tsv")) << swapped;
  auto sw = s.attn("train " + s.config + " --out sw" + tsv + "swapped.tsv");
  CHECK(sw.rc == 2);
  CHECK_THAT(sw.err, Catch::Contains("180 different labels in 180 training examples") && Catch::Contains("the other way round"));  // 10% held out
  CHECK(sw.err.size() < 600);
  CHECK_FALSE(fs::exists(s.dir / "sw"));

  // A label the training set does not have, of a megabyte: the message stays short.
  std::ofstream(s.path("huge.tsv")) << std::string(1 << 20, 'z') << "\tsome text\n";
  auto huge = s.attn("eval bom --data huge.tsv");
  CHECK(huge.rc == 2);
  CHECK_THAT(huge.err, Catch::Contains("is not in the training label set {\"neg\", \"pos\"}"));
  CHECK(huge.err.size() < 600);
}

TEST_CASE("data as others write it: GLUE's TSV and a pandas CSV train, evaluate and predict as they are, columns "
          "named in the config",
          "[cli][data]") {
  Sandbox s;
  std::string tsv = "sentence\tlabel\n", csv = ",review,stars\r\n";
  for (int i = 0; i < 200; ++i) {
    const bool good = i % 2;
    const std::string text = std::string(good ? "a fine, \"moving\" film" : "dull and slow") + " number " + std::to_string(i);
    tsv += text + "\t" + (good ? "1" : "0") + "\n";
    std::string quoted = text;
    for (size_t at = 0; (at = quoted.find('"', at)) != std::string::npos; at += 2) quoted.insert(at, "\"");
    csv += std::to_string(i) + ",\"" + quoted + "\"," + (good ? "5" : "1") + "\r\n";
  }
  std::ofstream(s.path("train.tsv")) << tsv;
  std::ofstream(s.path("train.csv")) << csv;
  const std::string common = " --set train.epochs=15 --set train.lr=0.01 --set model.pooling=max";
  auto glue = s.attn("train " + s.config + " --out glue --set data.kind=tsv --set data.path=train.tsv" + common);
  INFO(glue.err);
  REQUIRE(glue.rc == 0);
  CHECK_THAT(glue.err, Catch::Contains("text: column \"sentence\" (index 0), label: column \"label\" (index 1)"));
  auto pandas = s.attn("train " + s.config + " --out pandas --set data.kind=csv --set data.path=train.csv "
                       "--set data.text_column=review --set data.label_column=stars" + common);
  INFO(pandas.err);
  REQUIRE(pandas.rc == 0);
  CHECK(json::parse(s.attn("inspect pandas --json").out)["labels"] == json({"1", "5"}));
  // eval --data reads a file with the run's columns; predict reads plain text, one per line.
  const auto eval = json::parse(s.attn("eval pandas --json --data train.csv").out);
  CHECK(eval["count"] == 200);
  CHECK(eval["accuracy"].get<double>() > 0.9);
  const auto p = s.attn("predict glue", "a fine, \"moving\" film number 7\ndull and slow number 8\n");
  REQUIRE(p.rc == 0);
  CHECK(p.out.substr(0, 2) == "1\t");
  CHECK(p.out.substr(p.out.find('\n') + 1, 2) == "0\t");
  // A column the file does not have: one line, exit 2, no run directory.
  auto bad = s.attn("train " + s.config + " --out bad --set data.kind=csv --set data.path=train.csv "
                    "--set data.text_column=text --set data.label_column=stars");
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Catch::Contains("no column named \"text\" in the header line (its columns: \"\", \"review\", "
                                      "\"stars\")"));
  CHECK_FALSE(fs::exists(s.dir / "bad"));
}

TEST_CASE("predict reads a table of unlabelled inputs (GLUE's test.tsv, a CSV, JSON lines) and carries each row's id "
          "to its answer",
          "[cli][data]") {
  Sandbox s;
  std::string tsv = "sentence\tlabel\n";
  for (int i = 0; i < 200; ++i)
    tsv += std::string(i % 2 ? "a fine moving film" : "dull and slow") + " number " + std::to_string(i) + "\t" +
           (i % 2 ? "1" : "0") + "\n";
  std::ofstream(s.path("train.tsv")) << tsv;
  REQUIRE(s.attn("train " + s.config + " --out run --set data.kind=tsv --set data.path=train.tsv --set train.epochs=2").rc == 0);
  const std::vector<std::string> texts = {"a fine film", "slow, \"dull\"", "number 7"};
  std::string plain, glue = "index\tsentence\n", csv = "review_id,text\r\n", jsonl;
  for (size_t i = 0; i < texts.size(); ++i) {
    plain += texts[i] + "\n";
    glue += std::to_string(i) + "\t" + texts[i] + "\n";
    std::string quoted = texts[i];
    for (size_t at = 0; (at = quoted.find('"', at)) != std::string::npos; at += 2) quoted.insert(at, "\"");
    csv += "r" + std::to_string(i) + ",\"" + quoted + "\"\r\n";
    jsonl += json{{"id", 100 + i}, {"text", texts[i]}}.dump() + "\n";
  }
  std::ofstream(s.path("test.tsv")) << glue;
  std::ofstream(s.path("reviews.csv")) << csv;
  std::ofstream(s.path("inputs.jsonl")) << jsonl;
  const auto want = read_jsonl_text(s.attn("predict run --json", plain).out);
  REQUIRE(want.size() == texts.size());
  struct Case { std::string args, id0, layout; };
  for (const Case& c : {Case{"test.tsv", "0", "text: column \"sentence\" (index 1), id: column \"index\" (index 0)"},
                        Case{"reviews.csv --id-column review_id", "r0", "id: column \"review_id\" (index 0)"},
                        Case{"inputs.jsonl", "100", "JSON lines; text: key \"text\", id: key \"id\""}}) {
    INFO(c.args);
    const auto r = s.attn("predict run " + c.args + " --json");
    INFO(r.err);
    REQUIRE(r.rc == 0);
    CHECK_THAT(r.err, Catch::Contains(c.layout));
    const auto got = read_jsonl_text(r.out);
    REQUIRE(got.size() == texts.size());
    CHECK(got[0]["id"] == c.id0);
    for (size_t i = 0; i < texts.size(); ++i) {
      CHECK(got[i]["label"] == want[i]["label"]);  // the same answers as for the texts alone
      CHECK(got[i]["probs"] == want[i]["probs"]);
    }
  }
  // TSV output: the id first.
  const auto tsv_out = s.attn("predict run test.tsv");
  CHECK(tsv_out.out.rfind("0\t" + want[0]["label"].get<std::string>() + "\t", 0) == 0);
  // A column that is not there, a name without a header, the flags on a plain text file: one line, exit 2.
  auto r = s.attn("predict run test.tsv --id-column guid");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("no column named \"guid\" in the header line"));
  std::ofstream(s.path("bare.tsv")) << "0\ta fine film\n";
  r = s.attn("predict run bare.tsv --text-column sentence");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("is not a header line"));
  CHECK(s.attn("predict run bare.tsv --text-column 1 --id-column 0 --json").out.find("\"id\":\"0\"") != std::string::npos);
  r = s.attn("predict run --id-column id", plain);
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("are for a table"));
}

TEST_CASE("small input mistakes get one short, clear message and exit code 2", "[cli][errors]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out run --set train.epochs=1").rc == 0);
  fs::create_directories(s.dir / "adir");
  for (const std::string input : {"adir", "/dev/zero"}) {
    auto r = s.attn("predict run " + input);
    INFO(input << ": " << r.err);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains(input + ": is a d"));
  }
  auto beam = s.attn("predict run - --beam 0");
  CHECK(beam.rc == 2);
  CHECK_THAT(beam.err, Catch::Contains("must be positive; got 0"));
  CHECK(beam.err.size() < 200);  // no 309-digit range
  auto through = s.attn("train " + s.config + " --set train.lr.x=5");
  CHECK(through.rc == 2);
  CHECK_THAT(through.err, Catch::Contains("train.lr is a setting, not a section"));
  auto section = s.attn("train " + s.config + " --set trian.lr=5");
  CHECK(section.rc == 2);
  CHECK_THAT(section.err, Catch::Contains("did you mean train?"));
  auto keys = s.attn("train " + s.config + " --set data.kind=retrieval --set data.set_size=9 --set data.symbols=6");
  CHECK(keys.rc == 2);
  CHECK_THAT(keys.err, Catch::Contains("data.set_size: the retrieval task's keys are distinct symbols, so at most data.symbols (6); got 9"));
  auto dir = s.attn("config validate adir");
  CHECK(dir.rc == 2);
  CHECK_THAT(dir.err, Catch::Contains("adir: is a directory; give a config file"));
  auto data = s.attn("config validate small.json --set data.kind=tsv --set data.path=missing.tsv");
  CHECK(data.rc == 2);
  CHECK_THAT(data.err, Catch::Contains("data.path: \"missing.tsv\" does not exist"));
  CHECK(s.attn("config validate small.json --skip-data --set data.kind=tsv --set data.path=missing.tsv").rc == 0);
}

TEST_CASE("a resume that changes train.metric chooses the best checkpoint anew", "[cli][resume]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out m --set train.max_steps=40 --set train.eval_every=20").rc == 0);
  auto r = s.attn("train --out m --resume --set train.max_steps=80 --set train.eval_every=20 --set train.metric=loss");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("train.metric is now loss: the best checkpoint is chosen anew"));
  json first_after;
  for (const auto& rec : read_jsonl(s.dir / "m" / "metrics.jsonl"))
    if (rec["kind"] == "valid" && rec["step"] == 60) first_after = rec;
  REQUIRE(!first_after.is_null());
  CHECK(first_after["best"] == true);  // not compared with the old accuracy
  CHECK_THAT(r.err, Catch::Contains("| best loss "));
  // A finished run resumed with another metric validates nothing more: its summary names the
  // metric best.pt was chosen by (an accuracy is not printed as a loss).
  r = s.attn("train --out m --resume --set train.metric=accuracy");
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("| best loss "));
  CHECK_THAT(r.err, !Catch::Contains("| best accuracy "));
}

}  // namespace test_cli
