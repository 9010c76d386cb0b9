#include "attn/data/classify/csv_records.h"

#include <csv.h>

#include <exception>
#include <fstream>

#include "attn/core/errors.h"
#include "attn/core/utf8.h"

namespace attn {

namespace {

struct Reader {
  const std::string& path;
  const std::function<void(std::vector<std::string>&, const std::string&)>& f;
  std::vector<std::string> cells;
  size_t line = 0, start = 0;  // the line being fed; the line the current record started on
  size_t ended = 0;            // the line the last record ended on
  std::exception_ptr failed;   // thrown by f: kept, and rethrown outside libcsv's C frames
};

void on_field(void* data, size_t len, void* reader) {
  auto& r = *static_cast<Reader*>(reader);
  if (r.cells.empty()) r.start = r.line;
  r.cells.emplace_back(static_cast<const char*>(data), len);
}

void on_record(int, void* reader) {
  auto& r = *static_cast<Reader*>(reader);
  const bool blank = r.cells.size() == 1 && r.cells[0].find_first_not_of(" \t") == std::string::npos;
  if (!r.cells.empty() && !blank && !r.failed) {
    try {
      r.f(r.cells, r.path + ":" + std::to_string(r.start ? r.start : r.line));
    } catch (...) {
      r.failed = std::current_exception();
    }
  }
  r.cells.clear();
  r.ended = r.line;
}

}  // namespace

void for_each_csv_record(const std::string& path,
                         const std::function<void(std::vector<std::string>&, const std::string&)>& f) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot read the file (check it exists and is readable)");
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) throw std::runtime_error("libcsv: cannot start a parser");
  Reader reader{path, f, {}, 0, 0, 0, nullptr};
  std::string text;
  try {
    while (std::getline(in, text)) {
      ++reader.line;
      if (reader.line == 1) strip_bom(text);
      text += '\n';
      if (csv_parse(&parser, text.data(), text.size(), on_field, on_record, &reader) != text.size())
        throw DataError(path + ":" + std::to_string(reader.line) + ": not valid CSV (" +
                        csv_strerror(csv_error(&parser)) + "; a quote inside a field is written twice: \"\")");
      if (reader.failed) std::rethrow_exception(reader.failed);
    }
    if (csv_fini(&parser, on_field, on_record, &reader) != 0)
      throw DataError(path + ":" + std::to_string(reader.ended + 1) +
                      ": not valid CSV (a quoted field opened in this record is never closed)");
    if (reader.failed) std::rethrow_exception(reader.failed);
  } catch (...) {
    csv_free(&parser);
    throw;
  }
  csv_free(&parser);
}

}  // namespace attn
