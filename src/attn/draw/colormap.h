// The colour scale of every attention picture: viridis (perceptually uniform, readable in grey
// and by most colour-blind readers), fixed to weights in [0, 1] so that pictures compare.
// Torch-free.
#pragma once

#include <array>

namespace attn {

struct Rgb {
  double r, g, b;  ///< each in [0, 1]
};

/// viridis at nine evenly spaced stops, 0 (dark purple) .. 1 (yellow), as 0-255 triples: the
/// table the HTML page's script interpolates too.
const std::array<std::array<int, 3>, 9>& viridis_stops();

/// The colour of weight w: linear between the stops; w is clamped to [0, 1].
Rgb viridis(double w);

/// The colour of the i-th curve of a chart (a ten-colour qualitative palette, then again).
Rgb series_colour(int i);

}  // namespace attn
