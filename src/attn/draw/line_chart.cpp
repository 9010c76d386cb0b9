#include "attn/draw/line_chart.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "attn/core/atomic_file.h"
#include "attn/draw/colormap.h"

namespace attn {

namespace {

constexpr double kMargin = 16, kPanelW = 640, kPanelH = 200, kLeft = 64, kBottom = 34, kGap = 18, kTitle = 15;

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

std::string tick_label(double v, double step) {
  char buf[32];
  if (std::fabs(v) < step * 1e-6) v = 0;
  // The step decides for the whole axis: every label of it in one form.
  if (step >= 1e5 || step < 1e-4) std::snprintf(buf, sizeof buf, "%.1e", v);
  else {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  return buf;
}

// Draws one panel with its plot area at (x, y); the x range is shared by every panel.
void draw_panel(cairo_t* cr, const ChartPanel& p, const Range& xr, const std::vector<double>& xt, double x, double y,
                bool x_labels) {
  const double w = kPanelW - kLeft, h = kPanelH - kBottom;
  Range yr;
  for (const auto& c : p.curves)
    for (double v : c.y) yr.add(v);
  const double x_lo = xr.lo, x_hi = xr.hi;
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgb(cr, 0, 0, 0);
  draw_text(cr, p.y_label, x - kLeft + 12, y + h / 2, 11, Align::Centre, Align::Centre, -M_PI / 2, true);
  auto px = [&](double v) { return x + (x_hi > x_lo ? (v - x_lo) / (x_hi - x_lo) * w : w / 2); };
  for (double t : xt) {
    cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
    cairo_move_to(cr, std::round(px(t)) + 0.5, y + 1);
    cairo_line_to(cr, std::round(px(t)) + 0.5, y + h);
    cairo_stroke(cr);
    if (!x_labels) continue;
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    draw_text(cr, tick_label(t, xt.size() > 1 ? xt[1] - xt[0] : 1), px(t), y + h + 4, 10, Align::Centre,
              Align::Start);
  }
  auto frame = [&] {
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x + 0.5, y + 0.5, w, h);
    cairo_stroke(cr);
  };
  if (yr.empty()) {
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    draw_text(cr, "no values", x + w / 2, y + h / 2, 11, Align::Centre, Align::Centre);
    frame();
    return;
  }
  if (yr.hi - yr.lo <= std::fabs(yr.hi) * 1e-9) {  // a constant (the learning rate, say): around it
    const double pad = yr.hi != 0 ? std::fabs(yr.hi) * 0.5 : 1;
    yr.lo -= pad, yr.hi += pad;
  }
  const auto yt = nice_ticks(yr.lo, yr.hi, 5);
  const double y_lo = yt.front(), y_hi = yt.back();
  auto py = [&](double v) { return y + h - (y_hi > y_lo ? (v - y_lo) / (y_hi - y_lo) * h : h / 2); };
  for (double t : yt) {
    cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
    cairo_move_to(cr, x + 1, std::round(py(t)) + 0.5);
    cairo_line_to(cr, x + w, std::round(py(t)) + 0.5);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    draw_text(cr, tick_label(t, yt.size() > 1 ? yt[1] - yt[0] : 1), x - 4, py(t), 10, Align::End, Align::Centre);
  }
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w + 1, h + 1);
  cairo_clip(cr);
  for (const auto& c : p.curves) {
    const Rgb rgb = series_colour(c.colour);
    cairo_set_source_rgb(cr, rgb.r, rgb.g, rgb.b);
    cairo_set_line_width(cr, 1.6);
    const double dash[] = {5, 3};
    cairo_set_dash(cr, dash, c.dashed ? 2 : 0, 0);
    bool pen = false;
    for (size_t i = 0; i < c.x.size() && i < c.y.size(); ++i) {
      if (!std::isfinite(c.x[i]) || !std::isfinite(c.y[i])) {
        pen = false;
        continue;
      }
      if (pen) cairo_line_to(cr, px(c.x[i]), py(c.y[i]));
      else cairo_move_to(cr, px(c.x[i]), py(c.y[i]));
      pen = true;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    if (c.dashed)
      for (size_t i = 0; i < c.x.size() && i < c.y.size(); ++i)
        if (std::isfinite(c.x[i]) && std::isfinite(c.y[i])) {
          cairo_arc(cr, px(c.x[i]), py(c.y[i]), 2.5, 0, 2 * M_PI);
          cairo_fill(cr);
        }
  }
  cairo_restore(cr);
  frame();
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0};
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < std::max(std::fabs(hi), 1.0) * 1e-12) return {lo};
  const double rough = (hi - lo) / std::max(count - 1, 1);
  const double pow10 = std::pow(10.0, std::floor(std::log10(rough)));
  double step = 10 * pow10;
  for (double m : {1.0, 2.0, 5.0})
    if (m * pow10 >= rough) {
      step = m * pow10;
      break;
    }
  const double first = std::floor(lo / step + 1e-9) * step, last = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (double t = first; t <= last + step * 0.5; t += step) ticks.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

void draw_line_charts(const ChartFigure& figure, FigureFormat format, const std::string& path) {
  const std::string bytes = render_line_charts(figure, format);
  write_file_atomically(path, bytes);
}

std::string render_line_charts(const ChartFigure& figure, FigureFormat format) {
  Range xr;
  for (const auto& p : figure.panels)
    for (const auto& c : p.curves)
      for (double v : c.x) xr.add(v);
  // The x axis from 0 (or below) to the last step, ticks inside it.
  if (xr.empty()) xr.lo = 0, xr.hi = 1;
  xr.lo = std::min(xr.lo, 0.0);
  if (xr.hi <= xr.lo) xr.hi = xr.lo + 1;
  std::vector<double> xt;
  for (double t : nice_ticks(xr.lo, xr.hi, 7))
    if (t >= xr.lo - 1e-9 * (xr.hi - xr.lo) && t <= xr.hi + 1e-9 * (xr.hi - xr.lo)) xt.push_back(t);
  // The legend: each curve label once, in the order first seen.
  std::vector<const Curve*> legend;
  for (const auto& p : figure.panels)
    for (const auto& c : p.curves)
      if (std::none_of(legend.begin(), legend.end(), [&](const Curve* l) { return l->label == c.label; }))
        legend.push_back(&c);
  const double header = kMargin + kTitle + 12;
  const double legend_row = 18;
  const double width = kMargin * 2 + kPanelW + 8;
  const double panels_h = figure.panels.size() * (kPanelH + kGap) + 16;  // + the x axis name
  const double height = header + panels_h + legend.size() * legend_row + kMargin;

  Figure out(format, width, height);
  cairo_t* cr = out.cr();
  cairo_set_source_rgb(cr, 0, 0, 0);
  draw_text(cr, figure.title, kMargin, kMargin, kTitle, Align::Start, Align::Start, 0, true);
  double y = header;
  for (size_t k = 0; k < figure.panels.size(); ++k) {
    draw_panel(cr, figure.panels[k], xr, xt, kMargin + kLeft, y, true);
    y += kPanelH + kGap;
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  draw_text(cr, figure.x_label, kMargin + kLeft + (kPanelW - kLeft) / 2, y - kGap + 2, 11, Align::Centre,
            Align::Start, 0, true);
  y += 16;
  for (const Curve* c : legend) {
    const Rgb rgb = series_colour(c->colour);
    cairo_set_source_rgb(cr, rgb.r, rgb.g, rgb.b);
    cairo_set_line_width(cr, 2);
    const double dash[] = {5, 3};
    cairo_set_dash(cr, dash, c->dashed ? 2 : 0, 0);
    cairo_move_to(cr, kMargin + kLeft, y + legend_row / 2);
    cairo_line_to(cr, kMargin + kLeft + 28, y + legend_row / 2);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    draw_text(cr, c->label, kMargin + kLeft + 36, y + legend_row / 2, 11, Align::Start, Align::Centre);
    y += legend_row;
  }
  return out.encode();
}

}  // namespace attn
