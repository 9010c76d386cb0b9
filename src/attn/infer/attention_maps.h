// What `attn show` draws for one input of a set classifier: the tokens the model read, its
// prediction, and every attention map of that forward pass (each encoder layer's
// self-attention, the attention pooling's query over the set), named by module.
//
// Shapes: H heads, Tq queries, Tk keys.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attn/infer/checkpoint_model.h"
#include "attn/model/attention_record.h"

namespace attn {

struct ShownInput {
  std::string text;
  std::vector<std::string> tokens;     ///< what the model read: vocabulary tokens, <unk> and <pad> included
  std::string label;                   ///< the predicted class
  double probability = 0;              ///< of that class
  std::vector<RecordedAttention> maps; ///< weights (H, Tq, Tk) each, in the order computed
};

/// The classifier `m` (in eval mode) run on `text` as `attn predict` runs it (tokenizer, vocabulary,
/// evaluation length, padding as in its config), with its attention recorded.
ShownInput show_classifier_input(CheckpointModel& m, const std::string& text);

/// A map's title for people: "encoder layer 1 self-attention", "attention pooling".
std::string describe_map(const std::string& module_name);

/// The inputs as one JSON document: {"checkpoint", "task", "attention", "labels", "inputs": [{"text",
/// "tokens", "label", "probability", "maps": [{"name", "title", "queries", "keys", "weights"
/// [H][Tq][Tk]}]}]}; weights rounded to 7 decimals.
nlohmann::json attention_maps_json(const CheckpointModel& m, const std::string& attention,
                                   const std::vector<ShownInput>& inputs);

}  // namespace attn
