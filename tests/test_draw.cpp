// The pictures (attn/draw/): a heatmap's PNG holds each weight as its viridis colour, cell by
// cell; an SVG is one whole document; curves come from metrics.jsonl as train (solid) and valid
// (dashed) per metric, each run in its colour; axis ticks are 1, 2 or 5 times a power of ten.
// Torch-free: the pictures are read back with cairo itself.
#include <cairo.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attn/core/errors.h"
#include "attn/draw/colormap.h"
#include "attn/draw/heatmap.h"
#include "attn/draw/line_chart.h"
#include "attn/draw/training_curves.h"
#include "temp_dir.h"

namespace test_draw {

using namespace attn;
namespace fs = std::filesystem;

namespace {

using attn::test::TempDir;

// A PNG read back: its size and its pixels as 0xRRGGBB.
struct Png {
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;
  uint32_t at(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x] & 0xFFFFFF; }
};

Png read_png(const std::string& path) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  REQUIRE(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
  Png png{cairo_image_surface_get_width(s), cairo_image_surface_get_height(s), {}};
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x) png.pixels.push_back(reinterpret_cast<const uint32_t*>(data + y * stride)[x]);
  cairo_surface_destroy(s);
  return png;
}

uint32_t packed(const Rgb& c) {
  auto byte = [](double v) { return static_cast<uint32_t>(std::lround(v * 255)); };
  return byte(c.r) << 16 | byte(c.g) << 8 | byte(c.b);
}

bool near(uint32_t a, uint32_t b, int tolerance = 1) {
  for (int shift : {0, 8, 16})
    if (std::abs(static_cast<int>((a >> shift) & 0xFF) - static_cast<int>((b >> shift) & 0xFF)) > tolerance) return false;
  return true;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("viridis: the ends and the middle are matplotlib's, the scale is clamped to [0, 1]", "[draw]") {
  CHECK(packed(viridis(0)) == 0x440154);
  CHECK(packed(viridis(0.5)) == 0x21918c);
  CHECK(packed(viridis(1)) == 0xfde725);
  CHECK(packed(viridis(-3)) == packed(viridis(0)));
  CHECK(packed(viridis(7)) == packed(viridis(1)));
  CHECK(packed(viridis(std::nan(""))) == packed(viridis(0)));
}

TEST_CASE("a heatmap PNG holds each weight as its viridis colour, cell by cell, at the layout's cell size", "[draw]") {
  TempDir t;
  // 3 queries x 5 keys, every weight different, so that every cell has its own colour.
  HeatmapPanel p{"head 1", {"q1", "q2", "q3"}, {"a", "b", "c", "d", "e"}, {}};
  for (int i = 0; i < 15; ++i) p.weights.push_back((i + 1) / 16.0);
  const std::string path = t.file("map.png");
  draw_heatmaps({"a map", "an input", {p}}, FigureFormat::Png, path);
  const auto png = read_png(path);
  const auto l = heatmap_layout(3, 5, 1);
  CHECK(l.cell_w == l.cell_h);
  REQUIRE(png.width > 5 * l.cell_w);
  REQUIRE(png.height > 3 * l.cell_h);
  // The first cell's top-left pixel: the first pixel of its colour, row by row.
  const uint32_t first = packed(viridis(p.weights[0]));
  int x0 = -1, y0 = -1;
  for (int y = 0; y < png.height && x0 < 0; ++y)
    for (int x = 0; x < png.width; ++x)
      if (png.at(x, y) == first) {
        x0 = x, y0 = y;
        break;
      }
  REQUIRE(x0 >= 0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j) {
      INFO("cell " << i << "," << j);
      const uint32_t want = packed(viridis(p.weights[static_cast<size_t>(i * 5 + j)]));
      // Every pixel of the cell, corners included: sharp cells, no smoothing between them.
      for (int dy : {0, l.cell_h / 2, l.cell_h - 1})
        for (int dx : {0, l.cell_w / 2, l.cell_w - 1})
          CHECK(near(png.at(x0 + j * l.cell_w + dx, y0 + i * l.cell_h + dy), want));
    }
}

TEST_CASE("heatmap layout: long inputs get small cells and thinned labels, strips stay readable", "[draw]") {
  const auto small = heatmap_layout(6, 6, 1);
  CHECK(small.cell_w == 28);
  CHECK(small.row_label_step == 1);
  const auto long_input = heatmap_layout(200, 200, 1);
  CHECK(long_input.cell_w == 2);
  CHECK(long_input.col_label_step * long_input.cell_w >= long_input.font_size);  // labels do not overlap
  const auto strip = heatmap_layout(1, 200, 1);  // the pooling query over a 200-token input
  CHECK(strip.cell_h >= 18);
  CHECK(heatmap_layout(12, 12, 8).cell_w < heatmap_layout(12, 12, 1).cell_w);  // several heads: smaller panels
}

TEST_CASE("a heatmap SVG is one whole document, and a panel of the wrong size is refused", "[draw]") {
  TempDir t;
  HeatmapPanel p{"head 1", {"ü", "\xff bad byte"}, {"▁piece", "b"}, {0.25, 0.75, 1, 0}};
  draw_heatmaps({"map", "", {p, p}}, FigureFormat::Svg, t.file("map.svg"));
  const auto svg = slurp(t.file("map.svg"));
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("<image") != std::string::npos);  // the cells as one picture per panel
  p.weights.pop_back();
  CHECK_THROWS_AS(draw_heatmaps({"map", "", {p}}, FigureFormat::Png, t.file("bad.png")), std::invalid_argument);
  CHECK_FALSE(fs::exists(t.file("bad.png")));
  CHECK_THROWS_AS(figure_format_of("curves.gif"), UsageError);
}

TEST_CASE("nice_ticks: steps of 1, 2 or 5 times a power of ten that cover the range", "[draw]") {
  for (auto [lo, hi] : std::vector<std::pair<double, double>>{
           {0, 1}, {0.12, 0.97}, {1, 6260}, {-3.5, 2.25}, {1e-5, 1e-3}, {0.6931, 0.6932}, {5, 5}}) {
    INFO(lo << " .. " << hi);
    const auto t = nice_ticks(lo, hi, 5);
    REQUIRE(!t.empty());
    CHECK(t.front() <= lo);
    CHECK(t.back() >= hi);
    if (lo == hi) {
      CHECK(t.size() == 1);
      continue;
    }
    CHECK(t.size() >= 3);
    CHECK(t.size() <= 11);
    const double step = t[1] - t[0];
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    CHECK((std::fabs(mantissa - 1) < 1e-6 || std::fabs(mantissa - 2) < 1e-6 || std::fabs(mantissa - 5) < 1e-6));
  }
}

TEST_CASE("training curves: metrics.jsonl's train and valid records per metric, a cut-off last line skipped, "
          "a bad one in the middle named",
          "[draw]") {
  TempDir t;
  fs::create_directories(t.file("run"));
  std::ofstream(t.file("run/metrics.jsonl"))
      << R"({"kind":"train","step":10,"loss":1.5,"accuracy":0.4,"lr":0.001})" "\n"
      << R"({"kind":"valid","step":10,"loss":1.2,"accuracy":0.5})" "\n"
      << R"({"kind":"train","step":20,"loss":0.9,"accuracy":0.7,"lr":0.0005})" "\n"
      << R"({"kind":"valid","step":20,"loss":0.8,"accuracy":0.75})" "\n"
      << R"({"kind":"test","step":20,"loss":0.85,"accuracy":0.74})" "\n"
      << R"({"kind":"train","st)";  // killed while writing
  const auto run = read_run_metrics(t.file("run"));
  REQUIRE(run.records.size() == 5);
  const std::vector<RunMetrics> runs = {run};
  CHECK(default_curve_metrics(runs) == std::vector<std::string>{"loss", "accuracy", "lr"});
  const auto fig = training_curves(runs, {"loss", "lr"}, "curves");
  REQUIRE(fig.panels.size() == 2);
  REQUIRE(fig.panels[0].curves.size() == 2);  // training and validation; the test record is no curve
  CHECK_FALSE(fig.panels[0].curves[0].dashed);
  CHECK(fig.panels[0].curves[1].dashed);
  CHECK(fig.panels[0].curves[1].x == std::vector<double>{10, 20});
  CHECK(fig.panels[0].curves[1].y == std::vector<double>{1.2, 0.8});
  REQUIRE(fig.panels[1].curves.size() == 1);  // lr: training records only
  CHECK(fig.panels[1].curves[0].y == std::vector<double>{0.001, 0.0005});

  std::ofstream(t.file("bad.jsonl")) << R"({"kind":"train","step":1,"loss":1})" "\nnot json\n"
                                     << R"({"kind":"train","step":2,"loss":1})" "\n";
  CHECK_THROWS_WITH(read_run_metrics(t.file("bad.jsonl")), Catch::Contains("bad.jsonl:2: not a JSON record"));
  CHECK_THROWS_WITH(read_run_metrics(t.file("nowhere")), Catch::Contains("nowhere"));
}

TEST_CASE("a line chart PNG draws each run in its own colour", "[draw]") {
  TempDir t;
  std::vector<RunMetrics> runs(2);
  for (int r = 0; r < 2; ++r) {
    runs[r].name = "run" + std::to_string(r);
    for (int s = 1; s <= 20; ++s)
      runs[r].records.push_back({{"kind", "train"}, {"step", s * 10}, {"loss", (r + 1.0) / s}});
  }
  const std::string path = t.file("curves.png");
  draw_line_charts(training_curves(runs, {"loss"}, "two runs"), FigureFormat::Png, path);
  const auto png = read_png(path);
  for (int r = 0; r < 2; ++r) {
    INFO("run " << r);
    const uint32_t colour = packed(series_colour(r));
    size_t count = 0;
    for (int y = 0; y < png.height; ++y)
      for (int x = 0; x < png.width; ++x) count += png.at(x, y) == colour;
    CHECK(count > 100);  // its curve (and its legend line)
  }
}

}  // namespace test_draw
