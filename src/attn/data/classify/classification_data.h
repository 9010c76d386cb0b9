// Classification data end to end: read or generate the splits, build the vocabulary and label
// set on the training split only, and encode every split to token ids. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attn/config/config.h"
#include "attn/data/classify/text_files.h"
#include "attn/data/tokenizer.h"
#include "attn/data/vocab.h"

namespace attn {

struct EncodedExample {
  std::vector<int64_t> ids;  ///< cut to data.max_len
  int64_t label;
};

struct RawSplits {
  std::vector<TextExample> train, valid, test;
  std::string layout;  ///< a labelled file's: where its text and label were found, for the log
};

/// data.header, data.text_column and data.label_column.
LabelledColumns columns_of(const DataConfig& data);

/// The splits as text: generated (set tasks), or read (IMDB, TSV, JSONL), with the validation
/// split cut from the shuffled training data (the notebook's 90/10) unless a file is given.
RawSplits read_splits(const DataConfig& data, uint64_t seed);

/// The tokenizer a data config asks for (set tasks always split on whitespace).
Tokenizer make_tokenizer(const DataConfig& data);

/// The set of training labels in natural order ("v2" before "v10").
std::vector<std::string> label_set(const std::vector<TextExample>& train);

/// The token ids of one text, cut to max_len; an empty text is one <unk>, not an empty set.
std::vector<int64_t> encode_text(const std::string& text, const Tokenizer& tok, const Vocab& vocab,
                                 int64_t max_len);

/// Token ids and label indices; a label outside `labels` is a DataError naming the example.
std::vector<EncodedExample> encode(const std::vector<TextExample>& examples, const Tokenizer& tok,
                                   const Vocab& vocab, const std::vector<std::string>& labels,
                                   int64_t max_len);

struct ClassificationData {
  Vocab vocab;
  std::vector<std::string> labels;
  std::vector<EncodedExample> train, valid, test;
};

/// Encodes the splits. The vocabulary and labels are built on the training split, or taken as
/// given (a resumed run or a checkpoint keeps its own). Fewer than 2 labels is a DataError.
ClassificationData prepare_classification(const RawSplits& raw, const DataConfig& data,
                                          const Vocab* vocab = nullptr,
                                          const std::vector<std::string>* labels = nullptr);

/// Everything a training run needs, from the config alone.
ClassificationData load_classification(const DataConfig& data, uint64_t seed);

/// A built-in set task (as opposed to files)?
bool is_set_task(DataKind kind);

}  // namespace attn
