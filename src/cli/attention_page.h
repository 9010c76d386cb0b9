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

/// The parts of the page, for pages that hold the explorer among other things (attn report):
/// its CSS, the one-line reading hint, and the explorer itself (its element, the data and the
/// scripts; with #selftest in the URL it draws every head of the first map and writes a pixel
/// checksum of each into <pre id="selftest">, and any script error into <pre id="script-error">).
const char* attention_style();
const char* attention_hint();
std::string attention_explorer(const nlohmann::json& doc);

/// `s` with & < > " written as entities.
std::string escape_html(const std::string& s);

}  // namespace attn
