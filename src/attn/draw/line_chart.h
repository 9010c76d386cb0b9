// Training curves as pictures: one panel per metric stacked over a shared x axis (the step),
// each run in its own colour, training solid and validation dashed with dots, one legend.
// Torch-free.
#pragma once

#include <string>
#include <vector>

#include "attn/draw/figure.h"

namespace attn {

struct Curve {
  std::string label;      ///< what the legend calls it: "runs/a", "runs/a (valid)"
  int colour = 0;         ///< index into series_colour(): a run's curves share one
  bool dashed = false;    ///< validation curves: dashed, with a dot at each point
  std::vector<double> x, y;
};

struct ChartPanel {
  std::string y_label;  ///< "loss", "accuracy", ...
  std::vector<Curve> curves;
};

struct ChartFigure {
  std::string title;
  std::string x_label = "step";
  std::vector<ChartPanel> panels;
};

/// Tick values for an axis from lo to hi: about `count` of them at a step of 1, 2 or 5 times a
/// power of ten, covering [lo, hi]. lo == hi gives one tick.
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

/// Draws `figure` and writes it to `path` (PNG or SVG, by `format`). Non-finite points are
/// left out (a gap); a panel without points says so.
void draw_line_charts(const ChartFigure& figure, FigureFormat format, const std::string& path);

/// The same, the file's bytes returned.
std::string render_line_charts(const ChartFigure& figure, FigureFormat format);

}  // namespace attn
