#include "attn/draw/heatmap.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "attn/core/atomic_file.h"
#include "attn/draw/colormap.h"

namespace attn {

namespace {

constexpr double kMargin = 16, kGap = 24, kTitle = 15, kSubtitle = 11, kPanelTitle = 12;
constexpr size_t kLabelChars = 14;

struct Box {
  HeatmapLayout layout;
  double row_labels_w, col_labels_h, w, h;
};

Box measure(cairo_t* cr, const HeatmapPanel& p, size_t panels) {
  Box b{heatmap_layout(p.rows.size(), p.cols.size(), panels), 0, 0, 0, 0};
  for (size_t i = 0; i < p.rows.size(); i += b.layout.row_label_step)
    b.row_labels_w = std::max(b.row_labels_w, text_width(cr, shorten(p.rows[i], kLabelChars), b.layout.font_size));
  for (size_t j = 0; j < p.cols.size(); j += b.layout.col_label_step)
    b.col_labels_h = std::max(b.col_labels_h, text_width(cr, shorten(p.cols[j], kLabelChars), b.layout.font_size));
  b.row_labels_w += 6;
  b.col_labels_h += 6;
  b.w = b.row_labels_w + b.layout.cell_w * static_cast<double>(p.cols.size());
  b.h = kPanelTitle + 8 + b.layout.cell_h * static_cast<double>(p.rows.size()) + b.col_labels_h;
  return b;
}

// The cells as an image of C x R pixels, scaled up without smoothing: one paint per panel, and
// an SVG that holds one picture rather than R x C rectangles.
void draw_cells(cairo_t* cr, const HeatmapPanel& p, const HeatmapLayout& l, double x, double y) {
  const int R = static_cast<int>(p.rows.size()), C = static_cast<int>(p.cols.size());
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, C, R);
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  for (int i = 0; i < R; ++i) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(i) * stride);
    for (int j = 0; j < C; ++j) {
      const Rgb c = viridis(p.weights[static_cast<size_t>(i) * C + j]);
      row[j] = (static_cast<uint32_t>(std::lround(c.r * 255)) << 16) |
               (static_cast<uint32_t>(std::lround(c.g * 255)) << 8) | static_cast<uint32_t>(std::lround(c.b * 255));
    }
  }
  cairo_surface_mark_dirty(img);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, l.cell_w, l.cell_h);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, C, R);
  cairo_fill(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, x - 0.5, y - 0.5, C * l.cell_w + 1.0, R * l.cell_h + 1.0);
  cairo_stroke(cr);
}

void draw_panel(cairo_t* cr, const HeatmapPanel& p, const Box& b, double x, double y) {
  const auto& l = b.layout;
  cairo_set_source_rgb(cr, 0, 0, 0);
  const double mx = x + b.row_labels_w, my = y + kPanelTitle + 8;
  draw_text(cr, p.title, mx + l.cell_w * p.cols.size() / 2.0, y, kPanelTitle, Align::Centre, Align::Start);
  draw_cells(cr, p, l, mx, my);
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  for (size_t i = 0; i < p.rows.size(); i += l.row_label_step)
    draw_text(cr, shorten(p.rows[i], kLabelChars), mx - 4, my + (i + 0.5) * l.cell_h, l.font_size, Align::End,
              Align::Centre);
  const double bottom = my + l.cell_h * static_cast<double>(p.rows.size()) + 4;
  for (size_t j = 0; j < p.cols.size(); j += l.col_label_step)  // read upwards, ending at the map
    draw_text(cr, shorten(p.cols[j], kLabelChars), mx + (j + 0.5) * l.cell_w, bottom, l.font_size, Align::End,
              Align::Centre, -M_PI / 2);
}

// A vertical colour bar for [0, 1] with ticks every 0.25.
void draw_legend(cairo_t* cr, double x, double y, double h) {
  const double w = 14;
  cairo_pattern_t* grad = cairo_pattern_create_linear(0, y + h, 0, y);
  const auto& stops = viridis_stops();
  for (size_t i = 0; i < stops.size(); ++i)
    cairo_pattern_add_color_stop_rgb(grad, static_cast<double>(i) / (stops.size() - 1), stops[i][0] / 255.0,
                                     stops[i][1] / 255.0, stops[i][2] / 255.0);
  cairo_rectangle(cr, x, y, w, h);
  cairo_set_source(cr, grad);
  cairo_fill(cr);
  cairo_pattern_destroy(grad);
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, x - 0.5, y - 0.5, w + 1, h + 1);
  cairo_stroke(cr);
  for (int t = 0; t <= 4; ++t) {
    const double ty = y + h - h * t / 4.0;
    cairo_move_to(cr, x + w, ty);
    cairo_line_to(cr, x + w + 4, ty);
    cairo_stroke(cr);
    char label[16];
    std::snprintf(label, sizeof label, "%.2g", t / 4.0);
    draw_text(cr, label, x + w + 7, ty, 10, Align::Start, Align::Centre);
  }
  draw_text(cr, "weight", x + w / 2, y - 8, 10, Align::Centre, Align::End);
}

}  // namespace

HeatmapLayout heatmap_layout(size_t rows, size_t cols, size_t panels) {
  const double target = panels <= 1 ? 520 : 300;
  auto fit = [&](size_t n) { return std::clamp(static_cast<int>(target / std::max<size_t>(n, 1)), 2, 28); };
  const int c = std::min(fit(rows), fit(cols));
  HeatmapLayout l{c, c, 1, 1, 0};
  if (rows <= 4) l.cell_h = std::max(c, 18);  // a strip: the pooling query over the set
  if (cols <= 4) l.cell_w = std::max(c, 18);
  l.font_size = std::clamp(std::min(l.cell_w, l.cell_h) * 0.75, 7.0, 11.0);
  auto step = [&](int cell) { return std::max(1, static_cast<int>(std::ceil((l.font_size + 2) / cell))); };
  l.row_label_step = step(l.cell_h);
  l.col_label_step = step(l.cell_w);
  return l;
}

void draw_heatmaps(const HeatmapFigure& figure, FigureFormat format, const std::string& path) {
  const std::string bytes = render_heatmaps(figure, format);
  write_file_atomically(path, bytes);
}

std::string render_heatmaps(const HeatmapFigure& figure, FigureFormat format) {
  for (const auto& p : figure.panels)
    if (p.weights.size() != p.rows.size() * p.cols.size())
      throw std::invalid_argument("draw_heatmaps: panel '" + p.title + "' has " + std::to_string(p.weights.size()) +
                                  " weights for " + std::to_string(p.rows.size()) + " x " +
                                  std::to_string(p.cols.size()) + " cells");
  // Measure on a scratch canvas, then draw on one of the right size.
  Figure scratch(FigureFormat::Png, 1, 1);
  std::vector<Box> boxes;
  double cell_w = 0, cell_h = 0;
  for (const auto& p : figure.panels) {
    boxes.push_back(measure(scratch.cr(), p, figure.panels.size()));
    cell_w = std::max(cell_w, boxes.back().w);
    cell_h = std::max(cell_h, boxes.back().h);
  }
  const size_t n = std::max<size_t>(figure.panels.size(), 1);
  const size_t per_row = std::clamp<size_t>(static_cast<size_t>(1400 / (cell_w + kGap)), 1, n);
  const size_t grid_rows = (n + per_row - 1) / per_row;
  const double header = kMargin + kTitle + 6 + (figure.subtitle.empty() ? 0 : kSubtitle + 8) + 10;
  const double legend_w = 60;
  const double width = std::max(kMargin * 2 + per_row * (cell_w + kGap) - kGap + legend_w,
                                kMargin * 2 + text_width(scratch.cr(), figure.subtitle, kSubtitle));
  const double first_map_h =
      figure.panels.empty() ? 0 : boxes[0].layout.cell_h * static_cast<double>(figure.panels[0].rows.size());
  const double legend_top = header + kPanelTitle + 8, legend_h = std::clamp(first_map_h, 60.0, 240.0);
  const double height =
      std::max(header + grid_rows * (cell_h + kGap) - kGap + kMargin, legend_top + legend_h + kMargin + 8);

  Figure out(format, width, height);
  cairo_t* cr = out.cr();
  cairo_set_source_rgb(cr, 0, 0, 0);
  draw_text(cr, figure.title, kMargin, kMargin, kTitle, Align::Start, Align::Start, 0, true);
  if (!figure.subtitle.empty()) {
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    draw_text(cr, figure.subtitle, kMargin, kMargin + kTitle + 6, kSubtitle, Align::Start, Align::Start);
  }
  for (size_t k = 0; k < figure.panels.size(); ++k) {
    const double x = kMargin + (k % per_row) * (cell_w + kGap), y = header + (k / per_row) * (cell_h + kGap);
    draw_panel(cr, figure.panels[k], boxes[k], x, y);
  }
  draw_legend(cr, kMargin + per_row * (cell_w + kGap) - kGap + 8, legend_top, legend_h);
  return out.encode();
}

}  // namespace attn
