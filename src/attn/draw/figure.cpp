#include "attn/draw/figure.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <cmath>

#include "attn/core/errors.h"
#include "attn/core/utf8.h"

namespace attn {

namespace {

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// cairo refuses a string that is not UTF-8 (and then draws nothing more): a stray byte is
// drawn as the Latin-1 character of that byte instead.
std::string drawable(const std::string& text) {
  if (valid_utf8(text)) return text;
  std::string out;
  for (size_t i = 0, len = 0; i < text.size(); i += len) utf8_encode(utf8_decode(text, i, len), out);
  return out;
}

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

}  // namespace

FigureFormat figure_format_of(const std::string& path) {
  if (ends_with(path, ".png")) return FigureFormat::Png;
  if (ends_with(path, ".svg")) return FigureFormat::Svg;
  throw UsageError(path + ": a picture is written as .png or .svg; name the file with one of those");
}

const char* figure_extension(FigureFormat format) { return format == FigureFormat::Png ? ".png" : ".svg"; }

Figure::Figure(FigureFormat format, double width, double height) : format_(format) {
  if (format == FigureFormat::Png)
    surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(std::ceil(width)),
                                          static_cast<int>(std::ceil(height)));
  else
    surface_ = cairo_svg_surface_create_for_stream(append_to_string, &svg_, width, height);
  cr_ = cairo_create(surface_);
  if (cairo_status(cr_) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cairo: cannot make a canvas: ") + cairo_status_to_string(cairo_status(cr_)));
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
}

Figure::~Figure() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

std::string Figure::encode() {
  if (cairo_status(cr_) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cairo could not draw it: ") + cairo_status_to_string(cairo_status(cr_)));
  cairo_surface_flush(surface_);
  std::string bytes;
  cairo_status_t status;
  if (format_ == FigureFormat::Png) {
    status = cairo_surface_write_to_png_stream(surface_, append_to_string, &bytes);
  } else {
    cairo_surface_finish(surface_);  // the SVG surface writes its document now
    status = cairo_surface_status(surface_);
    bytes.swap(svg_);
    // cairo 1.16 writes no scaling filter into the SVG: browsers would smooth a heatmap's cells
    // into each other. Every picture here is drawn unsmoothed.
    const std::string crisp = "<image style=\"image-rendering:pixelated;image-rendering:crisp-edges\" ";
    for (size_t at = 0; (at = bytes.find("<image ", at)) != std::string::npos; at += crisp.size())
      bytes.replace(at, 7, crisp);
  }
  if (status != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cairo could not encode it: ") + cairo_status_to_string(status));
  return bytes;
}

void draw_text(cairo_t* cr, const std::string& text, double x, double y, double size, Align h, Align v, double angle,
               bool bold) {
  const std::string s = drawable(text);
  set_font(cr, size, bold);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, s.c_str(), &ext);
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  const double dx = h == Align::Start ? 0 : h == Align::Centre ? -ext.x_advance / 2 : -ext.x_advance;
  const double dy = v == Align::End ? 0 : v == Align::Centre ? (font.ascent - font.descent) / 2 : font.ascent;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, dx, dy);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

double text_width(cairo_t* cr, const std::string& text, double size, bool bold) {
  const std::string s = drawable(text);
  set_font(cr, size, bold);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, s.c_str(), &ext);
  return ext.x_advance;
}

std::string shorten(const std::string& text, size_t max_chars) {
  size_t chars = 0, i = 0, len = 0;
  for (; i < text.size() && chars < max_chars; i += len, ++chars) utf8_decode(text, i, len);
  if (i >= text.size()) return text;
  // Room for the ellipsis: one character fewer.
  size_t cut = 0, n = 0;
  for (size_t j = 0; n + 1 < max_chars && j < text.size(); j += len, ++n) {
    utf8_decode(text, j, len);
    cut = j + len;
  }
  return text.substr(0, cut) + "\xE2\x80\xA6";
}

}  // namespace attn
