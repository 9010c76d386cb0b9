// `attn show --format png|svg`: the attention maps of a document made by attention_maps_json()
// (attn/infer/attention_maps.h) drawn as one figure per map, the heads of a layer side by side,
// and for a translation the alignment (the last decoder layer's cross-attention averaged over
// heads, as Joey NMT and fairseq draw it). Torch-free: it reads the document, not the model.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attn/draw/figure.h"

namespace attn {

struct AttentionFigureOptions {
  FigureFormat format = FigureFormat::Png;
  int layer = 0;  ///< 1-based layer to draw (the pooling map has none and is always drawn); 0: all
  int head = 0;   ///< 1-based head to draw, alone and larger; 0: every head
  bool last_layers = false;  ///< only the last layer of the encoder and of the decoder (and the pooling)
};

/// Writes the figures of every input of `doc` under `out`: input_<i>/<k>-<what>.<ext>, k in the
/// order the model computed the maps, plus input_<i>/alignment.<ext> for a translation.
/// A --layer or --head the model does not have is a UsageError that says what it has.
/// Returns the files written.
std::vector<std::string> write_attention_figures(const nlohmann::json& doc, const std::string& out,
                                                 const AttentionFigureOptions& options);

}  // namespace attn
