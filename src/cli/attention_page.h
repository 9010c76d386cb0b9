// The page `attn show` writes: one self-contained HTML file (no network when it is opened) with
// the maps as JSON in a <script type="application/json" id="attn-data"> element and a small
// inline script that draws them: per input, a map and head chooser, the heatmap on a fixed
// [0, 1] colour scale with its legend, token labels, and the weight under the pointer.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace attn {

/// `doc` as attention_maps_json (attn/infer/attention_maps.h) makes it.
std::string attention_page(const nlohmann::json& doc);

}  // namespace attn
