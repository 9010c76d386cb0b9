#include "attn/data/seq2seq/seq2seq_data.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "attn/data/seq2seq/seq2seq_tasks.h"
#include "attn/data/validation_split.h"

namespace attn {

DataConfig codec_config(const DataConfig& data) {
  DataConfig c = data;
  if (is_seq2seq_task(data.kind)) c.tokenizer = Tokenization::Whitespace, c.lowercase = false, c.min_freq = 1;
  return c;
}

RawPairs read_pair_splits(const DataConfig& d, uint64_t seed) {
  RawPairs s;
  if (is_seq2seq_task(d.kind)) {
    std::seed_seq seq{seed, uint64_t{0x5e25e9}};
    std::vector<uint64_t> seeds(3);
    seq.generate(seeds.begin(), seeds.end());
    s.train = generate_pairs(d.kind, d.train_size, d.set_size, d.symbols, seeds[0]);
    s.valid = generate_pairs(d.kind, d.valid_size, d.set_size, d.symbols, seeds[1]);
    s.test = generate_pairs(d.kind, d.test_size, d.set_size, d.symbols, seeds[2]);
    return s;
  }
  auto read = [&](const std::string& src, const std::string& tgt, std::vector<TextPair>& out) {
    auto p = read_parallel_files(src, tgt);
    s.skipped_empty += p.skipped_empty;
    out = std::move(p.pairs);
  };
  read(d.path, d.target_path, s.train);
  if (!d.test_path.empty()) read(d.test_path, d.test_target_path, s.test);
  if (!d.valid_path.empty()) {
    read(d.valid_path, d.valid_target_path, s.valid);
    return s;
  }
  s.valid = cut_validation(s.train, d.valid_fraction, seed, d.path);
  return s;
}

Seq2SeqData prepare_seq2seq(const RawPairs& raw, const DataConfig& data, std::shared_ptr<TextCodec> source_codec,
                            std::shared_ptr<TextCodec> target_codec, int threads) {
  Seq2SeqData out;
  out.skipped_empty = raw.skipped_empty;
  const DataConfig cc = codec_config(data);
  if (!source_codec || !target_codec) {
    std::vector<std::string> sources, targets;
    for (const auto& p : raw.train) sources.push_back(p.source), targets.push_back(p.target);
    if (data.joint_vocab) {
      std::vector<std::string> both = sources;
      both.insert(both.end(), targets.begin(), targets.end());
      source_codec = target_codec = train_codec(cc, both, threads);
    } else {
      source_codec = train_codec(cc, sources, threads);
      target_codec = train_codec(cc, targets, threads);
    }
  }
  out.source_codec = source_codec;
  out.target_codec = target_codec;
  auto encode = [&](const TextPair& p) {
    return EncodedPair{source_codec->encode(p.source), target_codec->encode(p.target)};
  };
  for (const auto& p : raw.train) {
    auto e = encode(p);
    // The target gets </s> appended: it must fit max_target_len with it.
    if (static_cast<int64_t>(e.source.size()) > data.max_len ||
        static_cast<int64_t>(e.target.size()) + 1 > data.max_target_len || e.source.empty()) {
      ++out.dropped_train;
      continue;
    }
    out.train.push_back(std::move(e));
  }
  if (out.train.empty())
    throw DataError(data.path + ": every training pair is longer than data.max_len / data.max_target_len (" +
                    std::to_string(data.max_len) + " / " + std::to_string(data.max_target_len) + " tokens)");
  for (const auto& p : raw.valid) {
    auto e = encode(p);
    const int64_t limit = data.valid_max_len;
    if (limit > 0 && (static_cast<int64_t>(e.source.size()) > limit || static_cast<int64_t>(e.target.size()) > limit)) {
      ++out.dropped_valid;
      continue;
    }
    out.valid.push_back(std::move(e));
    out.valid_references.push_back(p.target);
  }
  for (const auto& p : raw.test) {
    out.test.push_back(encode(p));
    out.test_references.push_back(p.target);
  }
  return out;
}

}  // namespace attn
