#include "attn/draw/attention_figures.h"

#include <cstdio>
#include <filesystem>
#include <map>

#include "attn/core/errors.h"
#include "attn/draw/heatmap.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "encoder layer 1 self-attention" -> "encoder-layer-1-self-attention": a file name.
std::string slug(const std::string& title) {
  std::string s;
  for (char c : title.substr(0, title.find_first_of("(:"))) {  // "(target over source)" stays in the title
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (keep) s += c;
    else if (!s.empty() && s.back() != '-') s += '-';
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "map" : s;
}

// "decoder.layers.1.cross_mha" -> "decoder": the stack a layer belongs to.
std::string stack_of(const std::string& name) { return name.substr(0, name.find('.')); }

HeatmapPanel panel(const json& map, size_t head, const std::string& title) {
  HeatmapPanel p{title, map.at("queries").get<std::vector<std::string>>(),
                 map.at("keys").get<std::vector<std::string>>(), {}};
  for (const auto& row : map.at("weights").at(head))
    for (const auto& w : row) p.weights.push_back(w.get<double>());
  return p;
}

// The heads averaged: (1/H) sum_h w_h, one panel.
HeatmapPanel mean_panel(const json& map) {
  const size_t H = map.at("weights").size();
  HeatmapPanel p = panel(map, 0, "mean of " + std::to_string(H) + " heads");
  for (size_t h = 1; h < H; ++h) {
    const auto other = panel(map, h, "");
    for (size_t i = 0; i < p.weights.size(); ++i) p.weights[i] += other.weights[i];
  }
  for (auto& w : p.weights) w /= static_cast<double>(H);
  return p;
}

std::string subtitle(const json& doc, const json& in) {
  char score[64];
  if (doc.value("task", "") == "seq2seq") {
    std::snprintf(score, sizeof score, " (log-probability %.3f)", in.value("score", 0.0));
    return "\"" + shorten(in.value("text", ""), 70) + "\" -> \"" + shorten(in.value("output", ""), 70) + "\"" + score;
  }
  std::snprintf(score, sizeof score, " (p = %.3f)", in.value("score", 0.0));
  return "\"" + shorten(in.value("text", ""), 90) + "\" -> " + in.value("output", "") + score;
}

void check_request(const json& doc, const AttentionFigureOptions& o) {
  int layers = 0;
  size_t heads = 0;
  for (const auto& in : doc.at("inputs"))
    for (const auto& map : in.at("maps")) {
      layers = std::max(layers, map.value("layer", 0));
      heads = std::max(heads, map.at("weights").size());
    }
  if (o.layer < 0 || o.layer > layers)
    throw UsageError("--layer " + std::to_string(o.layer) + ": the model has layers 1.." + std::to_string(layers));
  if (o.head < 0 || static_cast<size_t>(o.head) > heads)
    throw UsageError("--head " + std::to_string(o.head) + ": the model has heads 1.." + std::to_string(heads));
}

}  // namespace

std::vector<std::string> write_attention_figures(const json& doc, const std::string& out,
                                                 const AttentionFigureOptions& o) {
  check_request(doc, o);
  const std::string ext = figure_extension(o.format);
  const std::string mode = doc.value("attention", "soft") == "hard" ? " (hard attention: one key per query)" : "";
  std::vector<std::string> written;
  size_t i = 0;
  for (const auto& in : doc.at("inputs")) {
    const fs::path dir = fs::path(out) / ("input_" + std::to_string(++i));
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw DataError(dir.string() + ": cannot create the folder (" + ec.message() + ")");
    const std::string sub = subtitle(doc, in);
    const json* last_cross = nullptr;
    std::map<std::string, int> last_layer;  // "encoder" / "decoder" -> its last layer
    for (const auto& map : in.at("maps"))
      if (map.contains("layer")) {
        int& last = last_layer[stack_of(map.value("name", ""))];
        last = std::max(last, map["layer"].get<int>());
      }
    size_t k = 0;
    for (const auto& map : in.at("maps")) {
      const std::string name = map.value("name", "");
      if (name.size() >= 9 && name.compare(name.size() - 9, 9, "cross_mha") == 0) last_cross = &map;
      ++k;
      if (map.contains("layer")) {
        const int layer = map["layer"].get<int>();
        if (o.layer && layer != o.layer) continue;
        if (o.last_layers && layer != last_layer[stack_of(name)]) continue;
      }
      HeatmapFigure fig{map.value("title", name) + mode, sub, {}};
      const size_t H = map.at("weights").size();
      for (size_t h = 0; h < H; ++h)
        if (!o.head || h + 1 == static_cast<size_t>(o.head)) fig.panels.push_back(panel(map, h, "head " + std::to_string(h + 1)));
      char prefix[8];
      std::snprintf(prefix, sizeof prefix, "%02zu-", k);
      const std::string path = (dir / (prefix + slug(map.value("title", name)) + ext)).string();
      draw_heatmaps(fig, o.format, path);
      written.push_back(path);
    }
    if (last_cross) {
      HeatmapFigure fig{"alignment: the last decoder layer's cross-attention, heads averaged" + mode, sub,
                        {mean_panel(*last_cross)}};
      const std::string path = (dir / ("alignment" + ext)).string();
      draw_heatmaps(fig, o.format, path);
      written.push_back(path);
    }
  }
  return written;
}

}  // namespace attn
