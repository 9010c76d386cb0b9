// Set-to-set data: parallel text files (plain and gzip, TSV), the built-in sort/copy/reverse
// tasks, the word and sentencepiece codecs, and batching for teacher forcing.
#include <torch/torch.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include <unistd.h>  // getpid

#include "attn/data/batcher.h"
#include "attn/data/seq2seq/parallel_text.h"
#include "attn/data/seq2seq/seq2seq_data.h"
#include "attn/data/seq2seq/seq2seq_tasks.h"
#include "attn/data/seq2seq/text_codec.h"
#include "real_data.h"
#include "remove_tree.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_seq2seq_data {

using namespace attn;
namespace fs = std::filesystem;

namespace {

struct Dir {
  fs::path path = fs::temp_directory_path() / ("attn_s2s_" + std::to_string(::getpid()) + "_" + std::to_string(n()++));
  Dir() { fs::create_directories(path); }
  ~Dir() { attn::test::remove_tree(path.string()); }
  static int& n() {
    static int k = 0;
    return k;
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
  std::string write_gz(const std::string& name, const std::string& text) const {
    const auto p = (path / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
    return p;
  }
};

DataConfig words_config() {
  DataConfig d;
  d.kind = DataKind::Parallel;
  d.tokenizer = Tokenization::Words;
  d.lowercase = false;
  return d;
}

}  // namespace

TEST_CASE("parallel files: gzip reads like plain text, empty pairs are skipped and counted", "[seq2seq][data]") {
  Dir d;
  const std::string de = "Ein Hund.\n\nZwei Katzen.\r\nDrei Vögel.\n", en = "A dog.\nNothing.\nTwo cats.\n\n";
  auto plain = read_parallel(d.write("a.de", de), d.write("a.en", en));
  auto gz = read_parallel(d.write_gz("a.de.gz", de), d.write_gz("a.en.gz", en));
  REQUIRE(plain.pairs.size() == 2);
  CHECK(plain.skipped_empty == 2);  // line 2 (empty source) and line 4 (empty target)
  CHECK(plain.pairs[1].source == "Zwei Katzen.");  // '\r' stripped
  CHECK(plain.pairs[1].target == "Two cats.");
  CHECK(plain.pairs[1].where == d.path.string() + "/a.de:3");
  REQUIRE(gz.pairs.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(gz.pairs[i].source == plain.pairs[i].source);
    CHECK(gz.pairs[i].target == plain.pairs[i].target);
  }
}

TEST_CASE("a .gz file cut short is an error, not the lines before the cut", "[seq2seq][data][errors]") {
  Dir d;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "sentence number " + std::to_string(i) + " of a parallel file\n";
  const auto whole = d.write_gz("whole.gz", text);
  REQUIRE(read_lines(whole).size() == 1000);
  std::ifstream in(whole, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const size_t keep : {bytes.size() - 8, bytes.size() / 2, size_t(40)}) {  // the trailer, the middle
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    const auto cut = d.write("cut.gz", bytes.substr(0, keep));
    CHECK_THROWS_WITH(read_lines(cut), Catch::Contains(cut + ": cannot decompress") &&
                                           Catch::Contains("damaged or cut short"));
  }
}

TEST_CASE("parallel files of different lengths are refused naming both", "[seq2seq][data][errors]") {
  Dir d;
  const auto src = d.write("s.txt", "a\nb\nc\n"), tgt = d.write("t.txt", "x\ny\n");
  CHECK_THROWS_WITH(read_parallel(src, tgt), src + " has 3 lines but " + tgt +
                                                 " has 2; the files must be line-aligned translations");
  CHECK_THROWS_WITH(read_parallel(d.write("e1", "\n"), d.write("e2", " \n")),
                    Catch::Contains("no sentence pair"));
  CHECK_THROWS_WITH(read_lines(d.write("bad", "ok\nbad \xFF byte\n")),
                    Catch::Contains("/bad:2: invalid UTF-8 at byte 4"));
  CHECK_THROWS_WITH(read_lines((d.path / "missing").string()), Catch::Contains("missing: no such file"));
  CHECK_THROWS_WITH(read_parallel_tsv(d.write("p.tsv", "a\tb\nno tab here\n")),
                    Catch::Contains("p.tsv:2: expected source<TAB>target"));
  auto tsv = read_parallel_tsv(d.write("q.tsv", "ein\tone\n\nzwei\ttwo\n"));
  REQUIRE(tsv.pairs.size() == 2);
  CHECK(tsv.pairs[1].target == "two");
}

TEST_CASE("built-in tasks: sort sorts, reverse reverses, copy copies, all from the seed", "[seq2seq][data]") {
  auto numbers = [](const std::string& s) {
    std::vector<int> xs;
    std::istringstream in(s);
    for (int x; in >> x;) xs.push_back(x);
    return xs;
  };
  for (const DataKind kind : {DataKind::Sort, DataKind::Copy, DataKind::Reverse}) {
    auto a = generate_pairs(kind, 200, 12, 40, 7), b = generate_pairs(kind, 200, 12, 40, 7);
    for (size_t i = 0; i < a.size(); ++i) {
      REQUIRE(a[i].source == b[i].source);
      auto src = numbers(a[i].source), tgt = numbers(a[i].target);
      CHECK(src.size() >= 6);
      CHECK(src.size() <= 12);
      for (int x : src) CHECK((x >= 0 && x < 40));
      auto expected = src;
      if (kind == DataKind::Sort) std::sort(expected.begin(), expected.end());
      if (kind == DataKind::Reverse) std::reverse(expected.begin(), expected.end());
      CHECK(tgt == expected);
    }
    CHECK(generate_pairs(kind, 5, 12, 40, 8)[0].source != a[0].source);
  }
  CHECK_THROWS_WITH(generate_pairs(DataKind::Retrieval, 1, 4, 4, 0), Catch::Contains("not a built-in set-to-set task"));
}

TEST_CASE("word codec: specials 0..3, unknown words to <unk>, decode joins tokens", "[seq2seq][codec]") {
  auto codec = train_codec(words_config(), {"the cat sat.", "the dog sat!", "the cat ran."});
  auto ids = codec->encode("the cat flew.");
  REQUIRE(ids.size() == 4);
  CHECK(ids[2] == TextCodec::kUnk);
  CHECK(codec->decode(ids) == "the cat .");  // <unk> is a special: left out
  CHECK(codec->decode({TextCodec::kBos, ids[0], TextCodec::kEos, TextCodec::kPad}) == "the");
  auto again = codec_from_json(codec->to_json());
  CHECK(again->encode("the cat sat.") == codec->encode("the cat sat."));
  CHECK(again->size() == codec->size());
  CHECK(codec->size() == 4 + 7);  // the cat sat . dog ! ran
  // piece: a token as the model sees it (what attn show labels maps with).
  CHECK(codec->piece(ids[0]) == "the");
  CHECK(codec->piece(TextCodec::kUnk) == "<unk>");
  CHECK(codec->piece(TextCodec::kEos) == "</s>");
}

TEST_CASE("sentencepiece codec: trained on text, decodes back to it, unknown characters to <unk>",
          "[seq2seq][codec][sentencepiece]") {
  std::vector<std::string> text;
  const char* words[] = {"the", "cat", "dog", "sat", "on", "a", "mat", "ran", "to", "house", "big", "small"};
  for (int i = 0; i < 400; ++i)
    text.push_back(std::string(words[i % 12]) + " " + words[(i * 7) % 12] + " " + words[(i * 5 + 3) % 12] + ".");
  for (const SubwordModel type : {SubwordModel::Unigram, SubwordModel::Bpe}) {
    DataConfig d = words_config();
    d.tokenizer = Tokenization::SentencePiece;
    d.subword_model = type;
    d.vocab_size = 40;
    auto codec = train_codec(d, text);
    INFO(codec->describe());
    CHECK(codec->size() <= 40);
    CHECK(codec->size() > 4);
    const std::string sentence = "the big dog ran to a small house.";
    auto ids = codec->encode(sentence);
    for (auto id : ids) CHECK(id >= 4);  // no specials in ordinary text
    CHECK(codec->decode(ids) == sentence);
    // Its pieces, as sentencepiece writes them: "\u2581" where a word starts, the text once joined.
    std::string joined;
    for (auto id : ids) joined += codec->piece(id);
    CHECK(joined == "\u2581the\u2581big\u2581dog\u2581ran\u2581to\u2581a\u2581small\u2581house.");
    CHECK(codec->piece(TextCodec::kBos) == "<s>");
    auto unknown = codec->encode("日");
    CHECK(std::find(unknown.begin(), unknown.end(), TextCodec::kUnk) != unknown.end());
    // Saved and loaded (as in a checkpoint): the same pieces.
    auto again = codec_from_json(nlohmann::json::parse(codec->to_json().dump()));
    CHECK(again->encode(sentence) == ids);
    CHECK(again->describe() == codec->describe());
  }
}

TEST_CASE("base64 round-trips every length and refuses bad text", "[seq2seq][codec]") {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
    bytes += static_cast<char>((i * 37 + 11) & 0xFF);
  }
  CHECK(base64_encode("Man") == "TWFu");
  CHECK(base64_encode("Ma") == "TWE=");
  CHECK(base64_encode("M") == "TQ==");
  CHECK_THROWS(base64_decode("TWF"));
  CHECK_THROWS(base64_decode("TW!u"));
}

TEST_CASE("training pairs over the length limits are dropped and counted, and targets get <s> and </s>",
          "[seq2seq][data][batch]") {
  RawPairs raw;
  raw.train = {{"a b c", "x y", ""}, {"a b c d e f", "x", ""}, {"a", "x y z w", ""}};
  raw.valid = {{"a b c d e f g", "x", ""}};
  DataConfig d = words_config();
  d.max_len = 5, d.max_target_len = 4, d.valid_max_len = 6;
  auto data = prepare_seq2seq(raw, d);
  CHECK(data.train.size() == 1);   // the 6-token source and the 4-token target (+ </s>) are over
  CHECK(data.dropped_train == 2);
  CHECK(data.valid.empty());
  CHECK(data.dropped_valid == 1);
  auto batch = make_pair_batch(data.train, {0}, torch::kCPU);
  const auto x = data.train[0].target;
  CHECK(batch.target_in[0][0].item<int64_t>() == TextCodec::kBos);
  CHECK(batch.target_in[0][1].item<int64_t>() == x[0]);
  CHECK(batch.target_out[0][0].item<int64_t>() == x[0]);
  CHECK(batch.target_out[0][2].item<int64_t>() == TextCodec::kEos);
  CHECK_FALSE(batch.target_padding.any().item<bool>());
}

TEST_CASE("the real Multi30k files read as 29,000 / 1,014 / 1,000 aligned pairs", "[seq2seq][data][multi30k]") {
  const fs::path dir = fs::path(ATTN_SOURCE_DIR) / ".." / "shared" / "data" / "multi30k";
  if (!fs::exists(dir / "train.de.gz")) {
    attn::test::data_missing((dir / "train.de.gz").string());
    return;
  }
  auto count = [&](const std::string& split) {
    auto p = read_parallel((dir / (split + ".de.gz")).string(), (dir / (split + ".en.gz")).string());
    return static_cast<int64_t>(p.pairs.size()) + p.skipped_empty;
  };
  CHECK(count("train") == 29000);
  CHECK(count("val") == 1014);
  CHECK(count("test_2016_flickr") == 1000);
  auto test = read_parallel((dir / "test_2016_flickr.de.gz").string(), (dir / "test_2016_flickr.en.gz").string());
  CHECK(test.pairs[0].target.find("A man") != std::string::npos);
}

}  // namespace test_seq2seq_data
