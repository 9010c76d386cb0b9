// What `attn show` draws for one input: the tokens the model read, its output, and every
// attention map of that forward pass, named by module, its rows and columns labelled.
//  - set classifier: each encoder layer's self-attention, the attention pooling's query;
//  - seq2seq: each encoder layer's self-attention, then for the translation the model produced
//    (greedy or beam search, as predict), each decoder layer's causal self-attention and its
//    cross-attention over the source, rows labelled by the token each position predicts.
//
// Shapes: H heads, Tq queries, Tk keys.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attn/infer/checkpoint_model.h"
#include "attn/infer/search.h"

namespace attn {

struct ShownMap {
  std::string name;                  ///< the module's path, e.g. "decoder.layers.0.cross_mha"
  std::vector<std::string> queries;  ///< Tq row labels
  std::vector<std::string> keys;     ///< Tk column labels
  torch::Tensor weights;             ///< (H, Tq, Tk) float64 on the CPU
};

struct ShownInput {
  std::string text;
  std::vector<std::string> tokens;   ///< what the model read: tokens or pieces, <unk> and <pad> included
  std::string output;                ///< the predicted class, or the translation
  std::vector<std::string> output_tokens;  ///< seq2seq: the translation's tokens, </s> last
  double score = 0;                  ///< the class's probability, or the translation's log-probability
  std::vector<ShownMap> maps;        ///< in the order the model computed them
};

/// The classifier `m` (in eval mode) run on `text` as `attn predict` runs it (tokenizer, vocabulary,
/// evaluation length, padding as in its config), with its attention recorded.
ShownInput show_classifier_input(CheckpointModel& m, const std::string& text);

/// The same from an encoded example (ids, as the data pipeline made them) and the model's
/// pieces, as the trainer has them; `text` is left empty.
ShownInput show_classifier_example(SetClassifier& model, const Vocab& vocab, const std::vector<std::string>& labels,
                                   const DataConfig& data, const std::vector<int64_t>& ids);

/// The seq2seq model `m` (in eval mode): `text` translated with `search`, then the source and that
/// translation through the model once more (teacher forcing) with its attention recorded.
ShownInput show_seq2seq_input(CheckpointSeq2Seq& m, const std::string& text, const SearchOptions& search);

/// The same from an encoded source (without <s> and </s>) and the model's pieces; `text` is the
/// source decoded.
ShownInput show_seq2seq_example(Seq2Seq& model, const TextCodec& source_codec, const TextCodec& target_codec,
                                const std::vector<int64_t>& source, const SearchOptions& search);

/// The alignment of a translation, as fairseq's --print-alignment gives it: for each target token
/// j of `tokens` (</s> left out), the source position i its last decoder layer's cross-attention,
/// averaged over heads, weighs most: "i-j" pairs, space-separated. src (1, S) without padding.
std::string alignment_pairs(Seq2Seq& model, const torch::Tensor& src, const std::vector<int64_t>& tokens);

/// The 1-based layer of a map's module ("decoder.layers.1.cross_mha" -> 2); 0 for one outside
/// the layers (the attention pooling).
int layer_of_map(const std::string& module_name);

/// A map's title for people: "encoder layer 1 self-attention", "decoder layer 2 cross-attention".
std::string describe_map(const std::string& module_name);

/// The inputs as one JSON document: {"checkpoint", "task", "attention", "step", "inputs": [{"text",
/// "tokens", "output", "output_tokens", "score", "maps": [{"name", "title", "layer" (1-based; none
/// for the pooling), "queries", "keys", "weights" [H][Tq][Tk]}]}]}; weights rounded to 7 decimals.
nlohmann::json attention_maps_json(const std::string& checkpoint, const CheckpointHeader& header,
                                   AttentionMode attention, const std::vector<ShownInput>& inputs);

}  // namespace attn
