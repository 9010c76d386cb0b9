// Attention maps as pictures: one figure of labelled heatmaps (the heads of one layer side by
// side), colours on viridis fixed to [0, 1] with a legend, long inputs drawn with thinned labels.
// Torch-free.
#pragma once

#include <string>
#include <vector>

#include "attn/draw/figure.h"

namespace attn {

struct HeatmapPanel {
  std::string title;              ///< "head 1"
  std::vector<std::string> rows;  ///< R query labels, top to bottom
  std::vector<std::string> cols;  ///< C key labels, left to right
  std::vector<double> weights;    ///< R x C, row-major; a row is one query's weights over the keys
};

struct HeatmapFigure {
  std::string title;     ///< "encoder layer 1 self-attention"
  std::string subtitle;  ///< the input and what the model made of it
  std::vector<HeatmapPanel> panels;
};

/// The layout of one panel: cell sizes (whole pixels, so that PNG cells are sharp) and the step
/// between drawn labels (1 = every label; k = every k-th, for long inputs).
struct HeatmapLayout {
  int cell_w, cell_h;
  int row_label_step, col_label_step;
  double font_size;
};

/// How a panel of R x C cells is drawn: as large as 28 px per cell, at least 2, about 520 px
/// across for a figure of one panel and 300 for several; a strip (R or C <= 4) keeps its short
/// side readable. Labels no closer than their font allows.
HeatmapLayout heatmap_layout(size_t rows, size_t cols, size_t panels);

/// Draws `figure` and returns the file's bytes (PNG or SVG, by `format`).
std::string render_heatmaps(const HeatmapFigure& figure, FigureFormat format);

/// render_heatmaps() written to `path`.
void draw_heatmaps(const HeatmapFigure& figure, FigureFormat format, const std::string& path);

}  // namespace attn
