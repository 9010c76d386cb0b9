#include "attn/draw/colormap.h"

#include <algorithm>

namespace attn {

const std::array<std::array<int, 3>, 9>& viridis_stops() {
  // matplotlib's viridis at 0, 1/8, .., 1.
  static const std::array<std::array<int, 3>, 9> stops = {{{68, 1, 84},
                                                            {71, 45, 123},
                                                            {59, 82, 139},
                                                            {44, 114, 142},
                                                            {33, 145, 140},
                                                            {40, 174, 128},
                                                            {94, 201, 98},
                                                            {173, 220, 48},
                                                            {253, 231, 37}}};
  return stops;
}

Rgb viridis(double w) {
  const auto& v = viridis_stops();
  w = std::clamp(w, 0.0, 1.0);  // NaN stays NaN: then the first stop
  if (!(w == w)) w = 0;
  const double x = w * (v.size() - 1);
  const size_t i = std::min(static_cast<size_t>(x), v.size() - 2);
  const double f = x - static_cast<double>(i);
  auto mix = [&](int c) { return (v[i][c] + (v[i + 1][c] - v[i][c]) * f) / 255.0; };
  return {mix(0), mix(1), mix(2)};
}

Rgb series_colour(int i) {
  // Tableau's ten colours (matplotlib's default cycle).
  static const std::array<std::array<int, 3>, 10> palette = {{{31, 119, 180},
                                                              {255, 127, 14},
                                                              {44, 160, 44},
                                                              {214, 39, 40},
                                                              {148, 103, 189},
                                                              {140, 86, 75},
                                                              {227, 119, 194},
                                                              {127, 127, 127},
                                                              {188, 189, 34},
                                                              {23, 190, 207}}};
  const auto& c = palette[static_cast<size_t>(i < 0 ? -i : i) % palette.size()];
  return {c[0] / 255.0, c[1] / 255.0, c[2] / 255.0};
}

}  // namespace attn
