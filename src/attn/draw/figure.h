// A picture drawn with cairo and encoded whole as PNG or SVG (the draw_* functions write it
// atomically), with the text helpers every chart here uses (DejaVu Sans through cairo's font
// backend). Torch-free.
#pragma once

#include <string>

typedef struct _cairo cairo_t;
typedef struct _cairo_surface cairo_surface_t;

namespace attn {

enum class FigureFormat { Png, Svg };

/// The format a file name asks for by its extension (.png, .svg); a UsageError for any other.
FigureFormat figure_format_of(const std::string& path);

/// The extension of a format, with its dot: ".png", ".svg".
const char* figure_extension(FigureFormat format);

class Figure {
 public:
  /// A white canvas of width x height (pixels for PNG, points for SVG).
  Figure(FigureFormat format, double width, double height);
  ~Figure();
  Figure(const Figure&) = delete;
  Figure& operator=(const Figure&) = delete;

  cairo_t* cr() const { return cr_; }

  /// Ends the drawing and returns the file's bytes (PNG or SVG). Call once.
  std::string encode();

 private:
  FigureFormat format_;
  std::string svg_;  ///< what the SVG surface has written so far
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

enum class Align { Start, Centre, End };

/// Draws `text` (UTF-8) at (x, y) in DejaVu Sans of `size`: h aligns it along its baseline
/// direction, v is Start = top at y, Centre = middle at y, End = baseline at y. `angle` in
/// radians turns it about (x, y), clockwise (cairo's y points down).
void draw_text(cairo_t* cr, const std::string& text, double x, double y, double size, Align h = Align::Start,
               Align v = Align::End, double angle = 0, bool bold = false);

/// The width `text` takes at `size`.
double text_width(cairo_t* cr, const std::string& text, double size, bool bold = false);

/// `text` cut to at most `max_chars` characters (UTF-8 aware) with "…" when cut.
std::string shorten(const std::string& text, size_t max_chars);

}  // namespace attn
