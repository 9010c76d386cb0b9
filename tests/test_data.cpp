// Data: tokenizers, vocabulary, file loaders (on fixture files written here, and on the real
// IMDB when ../shared/data has it), the built-in set tasks, batching and the LR schedule.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include <unistd.h>  // getpid

#include "attn/core/utf8.h"
#include "attn/data/batcher.h"
#include "attn/data/classify/classification_data.h"
#include "attn/data/classify/set_tasks.h"
#include "attn/data/tokenizer.h"
#include "attn/data/vocab.h"
#include "attn/train/lr_schedule.h"
#include "real_data.h"
#include "temp_dir.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_data {

using namespace attn;
namespace fs = std::filesystem;
using Tokens = std::vector<std::string>;

namespace {

using attn::test::TempDir;

}  // namespace

TEST_CASE("the whitespace tokenizer lower-cases and splits on whitespace, as the notebook does",
          "[data][tokenizer]") {
  Tokenizer tok{TokenizerKind::Whitespace, true};
  // Python: "This movie WAS great!<br /><br />10/10\treally".lower().split()
  CHECK(tok("This movie WAS great!<br /><br />10/10\treally") ==
        Tokens{"this", "movie", "was", "great!<br", "/><br", "/>10/10", "really"});
  CHECK(tok("   ").empty());
  CHECK(Tokenizer{TokenizerKind::Whitespace, false}("Mixed Case") == Tokens{"Mixed", "Case"});
}

TEST_CASE("the words tokenizer strips <br /> tags and splits punctuation off words", "[data][tokenizer]") {
  Tokenizer tok{TokenizerKind::Words, true};
  CHECK(tok("This movie WAS great!<br /><br />10/10, don't miss it...") ==
        Tokens{"this", "movie", "was", "great", "!", "10", "/", "10", ",", "don't", "miss", "it", ".", ".", "."});
  CHECK(tok("'quoted' words<br/>café") == Tokens{"quoted", "words", "café"});
  CHECK_THROWS_WITH(parse_tokenizer("bpe"),
                    "tokenizer must be \"whitespace\", \"words\" or \"sentencepiece\", got \"bpe\"");
  CHECK_THROWS_WITH(parse_tokenizer("sentencepiece"),
                    "tokenizer \"sentencepiece\" is a subword model, not a word tokenizer");
}

TEST_CASE("valid_utf8 accepts UTF-8 and finds the first bad byte", "[data][utf8]") {
  size_t at = 99;
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  CHECK_FALSE(valid_utf8("ab\xff", &at));
  CHECK(at == 2);
  CHECK_FALSE(valid_utf8("x\xc3", &at));  // truncated
  CHECK(at == 1);
  CHECK_FALSE(valid_utf8("\xc0\xaf"));        // overlong '/'
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));    // a surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
}

TEST_CASE("the vocabulary keeps the most frequent tokens, ties by bytes, after <unk> and <pad>",
          "[data][vocab]") {
  std::unordered_map<std::string, int64_t> counts = {{"b", 3}, {"a", 3}, {"c", 5}, {"d", 1}, {"e", 2}};
  auto v = Vocab::build(counts, 3, 1);
  CHECK(v.tokens() == Tokens{"<unk>", "<pad>", "c", "a", "b"});
  CHECK(v.id("a") == 3);
  CHECK(v.id("zzz") == Vocab::kUnk);
  CHECK(v.encode({"c", "d", "<pad>"}) == std::vector<int64_t>{2, 0, 1});
  CHECK(Vocab::build(counts, 100, 3).tokens() == Tokens{"<unk>", "<pad>", "c", "a", "b"});  // min_freq
  CHECK(Vocab::from_tokens(v.tokens()).tokens() == v.tokens());
  CHECK_THROWS_WITH(Vocab::from_tokens({"x"}), "vocabulary must start with <unk>, <pad>");
}

TEST_CASE("TSV and JSON-lines files load, and bad lines name the file and line", "[data][files]") {
  TempDir dir;
  auto tsv = dir.write("a.tsv", "pos\tgood film\n\nneg\tbad film\r\n");
  auto examples = read_tsv(tsv);
  REQUIRE(examples.size() == 2);
  CHECK(examples[0].label == "pos");
  CHECK(examples[1].text == "bad film");
  CHECK(examples[1].where == tsv + ":3");
  CHECK_THROWS_WITH(read_tsv(dir.write("b.tsv", "pos\tok\nno tab here\n")),
                    dir.path.string() + "/b.tsv:2: expected at least 2 tab-separated cells (text at index 1, label at index 0), got 1: \"no tab here\"");
  CHECK_THROWS_WITH(read_tsv(dir.write("e.tsv", "\n\n")), dir.path.string() + "/e.tsv: the file holds no examples");
  CHECK_THROWS_WITH(read_tsv((dir.path / "missing.tsv").string()),
                    Catch::EndsWith("missing.tsv: cannot read the file (check it exists and is readable)"));
  CHECK_THROWS_WITH(read_tsv(dir.write("u.tsv", "pos\tok\nneg\tbad \xff byte\n")),
                    dir.path.string() + "/u.tsv:2: invalid UTF-8 at byte 8 (convert the file to UTF-8)");

  auto jl = dir.write("a.jsonl", "{\"text\": \"good\", \"label\": \"pos\"}\n{\"text\": \"bad\", \"label\": 0}\n");
  auto j = read_jsonl(jl);
  REQUIRE(j.size() == 2);
  CHECK(j[1].label == "0");
  CHECK_THROWS_WITH(read_jsonl(dir.write("b.jsonl", "{\"text\": \"x\", \"label\": 1}\n{oops\n")),
                    dir.path.string() + "/b.jsonl:2: not valid JSON: \"{oops\"");
  CHECK_THROWS_WITH(read_jsonl(dir.write("c.jsonl", "{\"txt\": \"x\", \"label\": 1}\n")),
                    Catch::StartsWith(dir.path.string() + "/c.jsonl:1: expected {\"text\""));
  // Found by fuzz_labelled: an empty label was taken as a class.
  CHECK_THROWS_WITH(read_jsonl(dir.write("d.jsonl", "{\"text\": \"x\", \"label\": \"\"}\n")),
                    dir.path.string() + "/d.jsonl:1: the label is empty");
}

TEST_CASE("TSV, CSV and JSON lines, with or without a header, columns by name or index: the same examples",
          "[data][files]") {
  TempDir dir;
  // Four examples; the first text has a comma and quotes (CSV quotes it, TSV does not need to).
  const std::vector<std::pair<std::string, std::string>> want = {
      {"a good, \"fine\" film", "pos"}, {"bad", "neg"}, {"so-so film", "neg"}, {"great", "pos"}};
  struct Case {
    const char* kind;
    std::string file;
    LabelledColumns columns;
    const char* layout;
  };
  const std::vector<Case> cases = {
      {"tsv", "pos\ta good, \"fine\" film\nneg\tbad\nneg\tso-so film\npos\tgreat\n", {}, "no header line"},
      {"tsv", "label\ttext\npos\ta good, \"fine\" film\nneg\tbad\nneg\tso-so film\npos\tgreat\n", {}, "a header line"},
      {"tsv", "sentence\tlabel\r\na good, \"fine\" film\tpos\r\nbad\tneg\r\nso-so film\tneg\r\ngreat\tpos\r\n", {},
       "text: column \"sentence\" (index 0)"},  // GLUE's SST-2, CRLF
      {"tsv", "idx\tsentence\tlabel\n0\ta good, \"fine\" film\tpos\n1\tbad\tneg\n2\tso-so film\tneg\n3\tgreat\tpos\n",
       {HeaderLine::Auto, "sentence", "label"}, "label: column \"label\" (index 2)"},
      {"tsv", "pos\tx\ta good, \"fine\" film\nneg\tx\tbad\nneg\tx\tso-so film\npos\tx\tgreat\n", {HeaderLine::No, "2", "0"},
       "no header line"},
      {"csv", ",text,label\n0,\"a good, \"\"fine\"\" film\",pos\n1,bad,neg\n2,so-so film,neg\n3,great,pos\n", {},
       "a header line, comma-separated"},  // pandas' to_csv: the index first
      {"csv", "\xEF\xBB\xBFStars,Review\r\npos,\"a good, \"\"fine\"\" film\"\r\nneg,bad\r\nneg,so-so film\r\npos,great\r\n",
       {HeaderLine::Yes, "Review", "Stars"}, "text: column \"Review\" (index 1)"},  // BOM, CRLF, names as given
      {"jsonl", "{\"text\": \"a good, \\\"fine\\\" film\", \"label\": \"pos\"}\n{\"text\": \"bad\", \"label\": \"neg\"}\n"
                "{\"text\": \"so-so film\", \"label\": \"neg\"}\n{\"text\": \"great\", \"label\": \"pos\"}\n", {},
       "key \"text\""},
      {"jsonl", "{\"sentence\": \"a good, \\\"fine\\\" film\", \"label\": \"pos\", \"idx\": 0}\n"
                "{\"sentence\": \"bad\", \"label\": \"neg\", \"idx\": 1}\n{\"sentence\": \"so-so film\", \"label\": \"neg\", "
                "\"idx\": 2}\n{\"sentence\": \"great\", \"label\": \"pos\", \"idx\": 3}\n", {}, "key \"sentence\""},
  };
  int n = 0;
  for (const auto& c : cases) {
    const auto path = dir.write("f" + std::to_string(n++) + "." + c.kind, c.file);
    INFO(c.kind << ": " << c.file);
    const auto got = read_labelled_file(parse<DataKind>(c.kind), path, c.columns);
    REQUIRE(got.examples.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      CHECK(got.examples[i].text == want[i].first);
      CHECK(got.examples[i].label == want[i].second);
    }
    CHECK_THAT(got.layout, Catch::Contains(c.layout));
  }
  // CSV: a quoted field may hold a newline and a tab; the record is named by its first line.
  const auto multi = read_labelled_file(DataKind::Csv, dir.write("m.csv", "text,label\n\"two\nlines\tand a tab\",pos\nok,neg\n"));
  REQUIRE(multi.examples.size() == 2);
  CHECK(multi.examples[0].text == "two\nlines\tand a tab");
  CHECK_THAT(multi.examples[1].where, Catch::EndsWith("m.csv:4"));
}

TEST_CASE("labelled files: a column that is not there, a header mix-up or a broken CSV record get one clear line",
          "[data][files][errors]") {
  TempDir dir;
  const auto glue = dir.write("glue.tsv", "sentence\tlabel\ngood\t1\n");
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Tsv, glue, {HeaderLine::No, "review", ""}),
                    Catch::Contains("data.text_column \"review\" names a column, but the first line of") &&
                        Catch::Contains("is not a header line (\"sentence\", \"label\")"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Tsv, glue, {HeaderLine::Auto, "review", ""}),
                    Catch::Contains("glue.tsv:1: no column named \"review\" in the header line (its columns: "
                                    "\"sentence\", \"label\"); set data.text_column"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Tsv, dir.write("h.tsv", "id\tbody\n1\tx\n"), {HeaderLine::Yes, "", ""}),
                    Catch::Contains("h.tsv:1: the header line (\"id\", \"body\") names no text column"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Tsv, glue, {HeaderLine::Auto, "0", "0"}),
                    Catch::Contains("the text and the label are both column 0"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Tsv, dir.write("short.tsv", "pos\tx\tgood\nneg\tbad\n"), {HeaderLine::No, "2", "0"}),
                    Catch::Contains("short.tsv:2: expected at least 3 tab-separated cells"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Csv, dir.write("open.csv", "text,label\n\"never closed,pos\nok,neg\n")),
                    Catch::Contains("open.csv:2: not valid CSV"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Csv, dir.write("junk.csv", "text,label\n\"quoted\"junk,pos\n")),
                    Catch::Contains("junk.csv:2: not valid CSV"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Jsonl, dir.write("k.jsonl", "{\"text\": \"x\", \"label\": 1}\n"),
                                       {HeaderLine::Auto, "1", ""}),
                    Catch::Contains("JSON lines name their fields"));
  CHECK_THROWS_WITH(read_labelled_file(DataKind::Csv, dir.write("empty.csv", "text,label\n\n")),
                    Catch::Contains("empty.csv: the file holds no examples"));
}

TEST_CASE("classification data: the label set comes from training data, others are refused",
          "[data][files]") {
  TempDir dir;
  DataConfig d;
  d.kind = DataKind::Tsv;
  d.path = dir.write("train.tsv", "pos\ta b c\nneg\tc d\npos\ta a\nneg\td\n");
  d.valid_path = dir.write("valid.tsv", "pos\ta d\n");
  d.test_path = dir.write("test.tsv", "maybe\ta\n");
  CHECK_THROWS_WITH(load_classification(d, 0),
                    d.test_path + ":1: label \"maybe\" is not in the training label set {\"neg\", \"pos\"}");
  d.test_path = dir.write("test.tsv", "neg\tz z a\n");
  auto data = load_classification(d, 0);
  CHECK(data.labels == Tokens{"neg", "pos"});
  CHECK(data.vocab.tokens() == Tokens{"<unk>", "<pad>", "a", "c", "d", "b"});  // a:3 c:2 d:2 b:1
  REQUIRE(data.test.size() == 1);
  CHECK(data.test[0].ids == std::vector<int64_t>{0, 0, 2});
  CHECK(data.test[0].label == 0);
  d.max_len = 2;
  CHECK(load_classification(d, 0).train[0].ids.size() == 2);  // cut to max_len
}

TEST_CASE("the validation split is the shuffled tail of training data, fixed by the seed",
          "[data][files]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 100; ++i) text += (i % 2 ? "pos\tw" : "neg\tw") + std::to_string(i) + "\n";
  DataConfig d;
  d.kind = DataKind::Tsv;
  d.path = dir.write("train.tsv", text);
  auto a = read_splits(d, 1), b = read_splits(d, 1), c = read_splits(d, 2);
  CHECK(a.train.size() == 90);
  CHECK(a.valid.size() == 10);
  auto texts = [](const std::vector<TextExample>& v) {
    Tokens t;
    for (const auto& e : v) t.push_back(e.text);
    return t;
  };
  CHECK(texts(a.valid) == texts(b.valid));
  CHECK(texts(a.valid) != texts(c.valid));
  std::set<std::string> all;
  for (const auto& t : texts(a.train)) all.insert(t);
  for (const auto& t : texts(a.valid)) all.insert(t);
  CHECK(all.size() == 100);  // a partition: nothing lost, nothing twice
}

TEST_CASE("the IMDB reader reads the aclImdb layout, neg before pos, in file-name order",
          "[data][imdb]") {
  TempDir dir;
  dir.write("aclImdb/train/pos/1_9.txt", "Great<br />film");
  dir.write("aclImdb/train/pos/0_8.txt", "Loved it");
  dir.write("aclImdb/train/neg/5_1.txt", "Awful");
  auto split = read_imdb_split((dir.path / "aclImdb").string(), "train");
  REQUIRE(split.size() == 3);
  CHECK(split[0].label == "neg");
  CHECK(split[1].text == "Loved it");
  CHECK(split[2].text == "Great<br />film");
  CHECK_THROWS_WITH(read_imdb_split((dir.path / "aclImdb").string(), "test"),
                    Catch::Contains("aclImdb/test/neg: no such directory (data.path must hold the IMDB layout"));
}

TEST_CASE("the real IMDB data set has 12,500 reviews per class and split", "[data][imdb][real]") {
  // ../shared/data holds the packed original; unpack it once to the temp dir when it is there.
  const fs::path tarball = fs::path(ATTN_SOURCE_DIR) / "../shared/data/aclImdb_labeled.tar.gz";
  const fs::path root = fs::temp_directory_path() / "attn-data" / "aclImdb";
  if (!fs::is_directory(root / "test" / "pos")) {
    if (!fs::exists(tarball)) {
      attn::test::data_missing(tarball.string());
      return;
    }
    fs::create_directories(root.parent_path());
    const std::string cmd = "tar -xzf '" + tarball.string() + "' -C '" + root.parent_path().string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  auto test = read_imdb_split(root.string(), "test");
  CHECK(test.size() == 25000);
  CHECK(std::count_if(test.begin(), test.end(), [](const auto& e) { return e.label == "pos"; }) == 12500);
  // The notebook's vocabulary: the 50,000 most frequent training words + <unk> + <pad>.
  DataConfig d;
  d.kind = DataKind::Imdb;
  d.path = root.string();
  auto data = load_classification(d, 0);
  CHECK(data.vocab.size() == 50002);
  CHECK(data.train.size() == 22500);
  CHECK(data.valid.size() == 2500);
  CHECK(data.labels == Tokens{"neg", "pos"});
  CHECK(data.vocab.token(2) == "the");
}

TEST_CASE("majority sets are labelled with their unique most frequent symbol", "[data][sets]") {
  auto examples = make_majority(300, 9, 5, 42);
  REQUIRE(examples.size() == 300);
  Tokenizer tok;
  for (const auto& e : examples) {
    std::map<std::string, int> counts;
    for (const auto& t : tok(e.text)) ++counts[t];
    int best = 0, ties = 0;
    std::string arg;
    for (const auto& [t, n] : counts) {
      if (n > best) best = n, arg = t, ties = 1;
      else if (n == best) ++ties;
    }
    CHECK(ties == 1);
    CHECK(arg == e.label);
    CHECK(tok(e.text).size() == 9);
  }
  CHECK(make_majority(5, 9, 5, 42)[3].text == examples[3].text);  // the seed fixes the data
  CHECK(make_majority(5, 9, 5, 43)[3].text != examples[3].text);
}

TEST_CASE("retrieval sets hold distinct keys and are labelled with the query key's value",
          "[data][sets]") {
  Tokenizer tok;
  for (const auto& e : make_retrieval(200, 6, 10, 7)) {
    std::map<std::string, std::string> store;
    std::string query;
    for (const auto& t : tok(e.text)) {
      if (t[0] == '?') {
        query = t.substr(1);
        continue;
      }
      const auto colon = t.find(':');
      CHECK(store.emplace(t.substr(0, colon), t.substr(colon + 1)).second);  // keys are distinct
    }
    CHECK(store.size() == 6);
    REQUIRE(store.count(query) == 1);
    CHECK(store[query] == e.label);
  }
}

TEST_CASE("batches: the order depends only on seed and epoch, padding is masked", "[data][batch]") {
  std::vector<EncodedExample> data;
  for (int64_t i = 0; i < 10; ++i) data.push_back({std::vector<int64_t>(static_cast<size_t>(i % 4 + 1), i + 2), i % 2});
  auto a = epoch_batches(data, 3, 5, 1, true, false);
  CHECK(a == epoch_batches(data, 3, 5, 1, true, false));
  CHECK(a != epoch_batches(data, 3, 5, 2, true, false));
  CHECK(a.size() == 4);
  CHECK(a.back().size() == 1);
  std::set<size_t> seen;
  for (const auto& b : a) seen.insert(b.begin(), b.end());
  CHECK(seen.size() == 10);

  DataConfig cfg;
  auto batch = make_batch(data, {0, 3, 5}, cfg, torch::kCPU);  // lengths 1, 4, 2
  CHECK(batch.ids.sizes() == torch::IntArrayRef({3, 4}));
  CHECK(torch::equal(batch.padding, torch::tensor({false, true, true, true, false, false, false, false,
                                                   false, false, true, true}).view({3, 4})));
  CHECK(torch::equal(batch.ids[0], torch::tensor({2, 1, 1, 1})));  // <pad> = 1
  CHECK(torch::equal(batch.labels, torch::tensor({0, 1, 1})));
  cfg.fixed_length = true, cfg.max_len = 6, cfg.mask_padding = false;  // the notebook
  auto fixed = make_batch(data, {0, 3, 5}, cfg, torch::kCPU);
  CHECK(fixed.ids.size(1) == 6);
  CHECK_FALSE(fixed.padding.defined());

  for (const auto& b : epoch_batches(data, 3, 5, 0, true, /*bucket=*/true))
    for (size_t i = 1; i < b.size(); ++i) CHECK(data[b[i - 1]].ids.size() <= data[b[i]].ids.size());
}

TEST_CASE("token batches: each within the token budget and the set cap, every example once, the same batches "
          "every epoch in an order drawn from seed and epoch",
          "[data][batch]") {
  // Lengths 1..60, several of each, in no order: short ones should share batches, long ones not.
  std::mt19937_64 rng(3);
  std::vector<size_t> lengths(500);
  for (auto& l : lengths) l = 1 + rng() % 60;
  lengths[17] = 400;  // longer than the budget: a batch of its own
  const int64_t budget = 240, cap = 32;
  const auto a = token_batches(lengths, cap, budget, 7, 0, true);
  std::vector<int> seen(lengths.size(), 0);
  size_t tokens = 0;
  for (const auto& b : a) {
    REQUIRE_FALSE(b.empty());
    size_t longest = 0;
    for (size_t i : b) longest = std::max(longest, lengths[i]), ++seen[i];
    INFO("a batch of " << b.size() << " examples, the longest " << longest);
    CHECK((b.size() * longest <= static_cast<size_t>(budget) || b.size() == 1));
    CHECK(static_cast<int64_t>(b.size()) <= cap);
    tokens += b.size() * longest;
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  // Sorted by length, the padding is small: the padded tokens exceed the real ones by < 10%.
  const size_t real = std::accumulate(lengths.begin(), lengths.end(), size_t{0});
  CHECK(tokens < real * 11 / 10);
  // The cap binds for the shortest: 32 examples of length <= 7 fit 240 tokens.
  CHECK(std::any_of(a.begin(), a.end(), [&](const auto& b) { return static_cast<int64_t>(b.size()) == cap; }));

  // Another epoch: the same batches (as many steps), in another order; the same epoch again: the same.
  const auto next = token_batches(lengths, cap, budget, 7, 1, true);
  CHECK(next != a);
  auto sorted = [](std::vector<std::vector<size_t>> bs) {
    std::sort(bs.begin(), bs.end());
    return bs;
  };
  CHECK(sorted(next) == sorted(a));
  CHECK(token_batches(lengths, cap, budget, 7, 0, true) == a);
  CHECK(token_batches(lengths, cap, budget, 8, 0, true) != a);

  // training_batches takes them where train.batch_tokens is set, and batch_size sets otherwise.
  Config cfg;
  cfg.seed = 7, cfg.train.batch_size = cap, cfg.train.batch_tokens = budget;
  CHECK(training_batches(lengths, cfg, 0) == a);
  cfg.train.batch_tokens = 0;
  CHECK(training_batches(lengths, cfg, 0) == epoch_batches(lengths, cap, 7, 0, true, cfg.data.bucket));
}

TEST_CASE("learning-rate schedules: warmup, cosine, linear, inverse square root", "[train][schedule]") {
  TrainConfig t;
  t.lr = 1.0;
  CHECK(learning_rate(t, 0, 100) == 1.0);
  t.warmup_steps = 10;
  t.schedule = LrSchedule::Cosine;
  CHECK(learning_rate(t, 0, 110) == Approx(0.1));
  CHECK(learning_rate(t, 9, 110) == Approx(1.0));
  CHECK(learning_rate(t, 59, 110) == Approx(0.5));   // halfway through the decay
  CHECK(learning_rate(t, 109, 110) == Approx(0.0).margin(1e-12));
  t.schedule = LrSchedule::Linear;
  t.min_lr_ratio = 0.1;
  CHECK(learning_rate(t, 59, 110) == Approx(0.55));
  t.schedule = LrSchedule::InverseSqrt;
  CHECK(learning_rate(t, 9, 100) == Approx(1.0));
  CHECK(learning_rate(t, 39, 100) == Approx(0.5));   // sqrt(10 / 40)
  CHECK(learning_rate(t, 4, 100) == Approx(0.5));    // warming up
}

TEST_CASE("ngrams 2 adds each pair of neighbouring words after its second word", "[data][tokenizer]") {
  Tokenizer tok{TokenizerKind::Words, true, 2};
  CHECK(tok("Not good. Bad!") == Tokens{"not", "good", "not_good", ".", "good_.", "bad", "._bad", "!", "bad_!"});
  CHECK(tok("one") == Tokens{"one"});
  CHECK(tok("") == Tokens{});
}

}  // namespace test_data
