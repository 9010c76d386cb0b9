#include "attn/data/classify/classification_data.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>
#include <unordered_map>

#include "attn/data/classify/set_tasks.h"
#include "attn/data/validation_split.h"

namespace attn {

bool is_set_task(DataKind kind) { return kind == DataKind::Majority || kind == DataKind::Retrieval; }

Tokenizer make_tokenizer(const DataConfig& data) {
  if (is_set_task(data.kind)) return Tokenizer{TokenizerKind::Whitespace, false};
  return Tokenizer{word_tokenizer(data.tokenizer), data.lowercase, static_cast<int>(data.ngrams)};
}

LabelledColumns columns_of(const DataConfig& d) { return {d.header, d.text_column, d.label_column}; }

RawSplits read_splits(const DataConfig& d, uint64_t seed) {
  RawSplits s;
  if (is_set_task(d.kind)) {
    // Three independent streams from one seed.
    std::seed_seq seq{seed, uint64_t{0x5e7a5c}};
    std::vector<uint64_t> seeds(3);
    seq.generate(seeds.begin(), seeds.end());
    s.train = generate_examples(d.kind, d.train_size, d.set_size, d.symbols, seeds[0]);
    s.valid = generate_examples(d.kind, d.valid_size, d.set_size, d.symbols, seeds[1]);
    s.test = generate_examples(d.kind, d.test_size, d.set_size, d.symbols, seeds[2]);
    return s;
  }
  if (d.kind == DataKind::Imdb) {
    s.train = read_imdb_split(d.path, "train");
    s.test = read_imdb_split(d.path, "test");
  } else {
    auto train = read_labelled_file(d.kind, d.path, columns_of(d));
    s.train = std::move(train.examples);
    s.layout = d.path + ": " + train.layout;
    if (!d.test_path.empty()) s.test = read_labelled_file(d.kind, d.test_path, columns_of(d)).examples;
  }
  if (!d.valid_path.empty()) {
    s.valid = read_labelled_file(d.kind == DataKind::Imdb ? DataKind::Tsv : d.kind, d.valid_path, columns_of(d)).examples;
    return s;
  }
  // The notebook: shuffle the training split, keep the first 90% for training.
  s.valid = cut_validation(s.train, d.valid_fraction, seed, d.path);
  return s;
}

namespace {

// "v2" before "v10": runs of digits compare by value, everything else by bytes.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && digit(a[i2])) ++i2;
      while (j2 < b.size() && digit(b[j2])) ++j2;
      auto x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
      x.erase(0, std::min(x.find_first_not_of('0'), x.size() - 1));
      y.erase(0, std::min(y.find_first_not_of('0'), y.size() - 1));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i2, j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j || (a.size() - i == b.size() - j && a < b);
}

}  // namespace

std::vector<std::string> label_set(const std::vector<TextExample>& train) {
  std::set<std::string> unique;
  for (const auto& e : train) unique.insert(e.label);
  std::vector<std::string> labels(unique.begin(), unique.end());
  std::sort(labels.begin(), labels.end(), natural_less);
  return labels;
}

std::vector<int64_t> encode_text(const std::string& text, const Tokenizer& tok, const Vocab& vocab,
                                 int64_t max_len) {
  auto ids = vocab.encode(tok(text));
  if (static_cast<int64_t>(ids.size()) > max_len) ids.resize(static_cast<size_t>(max_len));
  if (ids.empty()) ids.push_back(Vocab::kUnk);
  return ids;
}

std::vector<EncodedExample> encode(const std::vector<TextExample>& examples, const Tokenizer& tok,
                                   const Vocab& vocab, const std::vector<std::string>& labels,
                                   int64_t max_len) {
  std::unordered_map<std::string, int64_t> label_id;
  for (size_t i = 0; i < labels.size(); ++i) label_id[labels[i]] = static_cast<int64_t>(i);
  std::vector<EncodedExample> out;
  out.reserve(examples.size());
  for (const auto& e : examples) {
    auto it = label_id.find(e.label);
    if (it == label_id.end()) {
      std::string known;
      for (const auto& l : labels) {
        if (known.size() > 200) {
          known += ", ... (" + std::to_string(labels.size()) + " labels)";
          break;
        }
        known += (known.empty() ? "" : ", ") + quote_value(l, 40);
      }
      throw DataError(e.where + ": label " + quote_value(e.label, 80) + " is not in the training label set {" +
                      known + "}");
    }
    out.push_back({encode_text(e.text, tok, vocab, max_len), it->second});
  }
  return out;
}

ClassificationData prepare_classification(const RawSplits& raw, const DataConfig& d,
                                          const Vocab* vocab, const std::vector<std::string>* labels) {
  const auto tok = make_tokenizer(d);
  ClassificationData out;
  if (vocab) {
    out.vocab = *vocab;
  } else {
    std::unordered_map<std::string, int64_t> counts;
    for (const auto& e : raw.train)
      for (auto& t : tok(e.text)) ++counts[std::move(t)];
    out.vocab = Vocab::build(counts, d.vocab_size, d.min_freq);
  }
  out.labels = labels ? *labels : label_set(raw.train);
  // Sentences read as labels (the columns the other way round): a class for nearly every example.
  if (!labels && out.labels.size() > 50 && out.labels.size() * 2 > raw.train.size())
    throw DataError(d.path + ": " + std::to_string(out.labels.size()) + " different labels in " +
                    std::to_string(raw.train.size()) + " training examples, e.g. " +
                    quote_value(out.labels.front(), 80) + "; are the columns the other way round? attn reads " +
                    "label<TAB>text (jsonl: {\"text\": ..., \"label\": ...})");
  if (out.labels.size() < 2)
    throw DataError(d.path + ": the training data has " + std::to_string(out.labels.size()) +
                    " label(s); a classifier needs at least 2");
  out.train = encode(raw.train, tok, out.vocab, out.labels, d.max_len);
  out.valid = encode(raw.valid, tok, out.vocab, out.labels, eval_length(d));
  out.test = encode(raw.test, tok, out.vocab, out.labels, eval_length(d));
  return out;
}

ClassificationData load_classification(const DataConfig& d, uint64_t seed) {
  return prepare_classification(read_splits(d, seed), d);
}

}  // namespace attn
