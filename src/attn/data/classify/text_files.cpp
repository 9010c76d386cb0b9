#include "attn/data/classify/text_files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "attn/core/utf8.h"
#include "attn/data/classify/csv_records.h"
#include "attn/data/fetch_hint.h"

namespace attn {

namespace fs = std::filesystem;

namespace {

std::string read_whole(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw DataError(p.string() + ": cannot read the file (check it exists and is readable)");
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  strip_bom(text);
  return text;
}

void check_utf8(const std::string& text, const std::string& where) {
  size_t at = 0;
  if (!valid_utf8(text, &at))
    throw DataError(where + ": invalid UTF-8 at byte " + std::to_string(at) +
                    " (convert the file to UTF-8)");
}

// Calls f(line, line_number) for every line that is not blank; strips a trailing '\r'.
template <class F>
size_t for_each_line(const std::string& path, F&& f) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot read the file (check it exists and is readable)");
  std::string line;
  size_t number = 0, used = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1) strip_bom(line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    f(line, path + ":" + std::to_string(number));
    ++used;
  }
  if (used == 0) throw DataError(path + ": the file holds no examples");
  return used;
}

}  // namespace

std::vector<TextExample> read_imdb_split(const std::string& root, const std::string& split) {
  std::vector<TextExample> out;
  for (const char* label : {"neg", "pos"}) {
    const fs::path dir = fs::path(root) / split / label;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
      throw DataError(dir.string() + ": no such directory (data.path must hold the IMDB layout "
                      "aclImdb/{train,test}/{pos,neg}/*.txt)" + fetch_hint(root));
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".txt") files.push_back(e.path());
    if (files.empty()) throw DataError(dir.string() + ": no .txt files in the directory");
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto text = read_whole(f);
      check_utf8(text, f.string());
      out.push_back({std::move(text), label, f.string()});
    }
  }
  return out;
}

namespace {

// The names data sets give their columns (GLUE, Hugging Face datasets, pandas exports).
// ASCII lower case: column names compare without case ("Label", "SENTENCE").
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_column_name(const std::string& cell, std::initializer_list<const char*> names) {
  const std::string name = lower(cell);
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

const std::initializer_list<const char*> kLabelNames = {"label", "labels", "class", "sentiment", "target",
                                                        "category", "y"};
const std::initializer_list<const char*> kTextNames = {"text", "sentence", "review", "content", "document",
                                                       "sentence1", "x"};
const std::initializer_list<const char*> kIdNames = {"id", "idx", "index", "guid", "uid"};

}  // namespace

namespace {

bool is_index(const std::string& column) {
  return !column.empty() && column.find_first_not_of("0123456789") == std::string::npos && column.size() < 6;
}

std::string list_cells(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size() && i < 12; ++i) out += (i ? ", " : "") + quote_value(cells[i], 40);
  return out + (cells.size() > 12 ? ", ..." : "");
}

// A table's first row, where columns are looked up by name (ASCII case ignored).
struct FirstRow {
  const std::vector<std::string>& cells;
  std::string where;  // "FILE:N"

  size_t find(const std::string& name) const {  // cells.size() when absent
    for (size_t i = 0; i < cells.size(); ++i)
      if (lower(cells[i]) == lower(name)) return i;
    return cells.size();
  }
  size_t find_known(std::initializer_list<const char*> names) const {
    for (size_t i = 0; i < cells.size(); ++i)
      if (is_column_name(cells[i], names)) return i;
    return cells.size();
  }
  bool has(std::initializer_list<const char*> names) const { return find_known(names) < cells.size(); }
  /// A configured column given by name that this row holds (header "auto" then reads it as a header).
  bool names(const std::string& configured) const {
    return !configured.empty() && !is_index(configured) && find(configured) < cells.size();
  }
  /// ""(index I)" or "\"name\" (index I)" for the log.
  std::string describe(bool header, size_t i) const {
    return (header && i < cells.size() ? quote_value(cells[i], 40) + " " : std::string()) + "(index " + std::to_string(i) + ")";
  }

  /// Where a column is: an index as configured; a configured name in the header line; else the
  /// first of the usual names in a header line, or without one `fallback`. `option` is what sets
  /// it (data.text_column, --id-column), `what` its role, `no_header` what to do about a name
  /// without a header line. Unless `required`, a header without the usual names gives nullopt.
  std::optional<size_t> resolve(bool header, const std::string& configured, const std::string& option, const char* what,
                                std::initializer_list<const char*> known, std::optional<size_t> fallback, bool required,
                                const std::string& no_header) const {
    if (is_index(configured)) return std::stoul(configured);
    if (!configured.empty()) {
      if (!header)
        throw DataError(option + " \"" + configured + "\" names a column, but the first line of " +
                        where.substr(0, where.rfind(':')) + " is not a header line (" + list_cells(cells) + "): " +
                        no_header);
      const size_t i = find(configured);
      if (i == cells.size())
        throw DataError(where + ": no column named \"" + configured + "\" in the header line (its columns: " +
                        list_cells(cells) + "); set " + option + " to one of them or to a 0-based index");
      return i;
    }
    if (!header) return fallback;
    const size_t i = find_known(known);
    if (i < cells.size()) return i;
    if (!required) return std::nullopt;
    throw DataError(where + ": the header line (" + list_cells(cells) + ") names no " + what + " column; set " + option +
                    " to its name or 0-based index");
  }
};

// Where the text and the label are in a table's rows, decided on its first record.
struct TableColumns {
  bool header = false;
  size_t text = 1, label = 0;
  std::string layout;
};

TableColumns resolve_columns(const std::vector<std::string>& first, const std::string& where,
                             const LabelledColumns& c, const char* separated) {
  const FirstRow row{first, where};
  TableColumns t;
  // "auto": a configured name there, or both kinds of the usual names
  t.header = c.header == HeaderLine::Yes ||
             (c.header == HeaderLine::Auto && (row.names(c.text) || row.names(c.label) || (row.has(kTextNames) && row.has(kLabelNames))));
  const std::string hint = "set data.header to true if it is one, or give the column's 0-based index";
  t.text = *row.resolve(t.header, c.text, "data.text_column", "text", kTextNames, 1, true, hint);
  t.label = *row.resolve(t.header, c.label, "data.label_column", "label", kLabelNames, 0, true, hint);
  if (t.text == t.label)
    throw DataError(where + ": the text and the label are both column " + std::to_string(t.text) +
                    " (data.text_column, data.label_column)");
  t.layout = std::string(t.header ? "a header line" : "no header line") + ", " + separated + "; text: column " +
             row.describe(t.header, t.text) + ", label: column " + row.describe(t.header, t.label);
  return t;
}

// Rows of cells (TSV or CSV) to examples, the first row deciding the columns.
class TableReader {
 public:
  TableReader(const LabelledColumns& columns, const char* separated) : columns_(columns), separated_(separated) {}

  void row(const std::vector<std::string>& cells, const std::string& where) {
    if (first_) {
      first_ = false;
      t_ = resolve_columns(cells, where, columns_, separated_);
      if (t_.header) return;
    }
    const size_t need = std::max(t_.text, t_.label) + 1;
    if (cells.size() < need)
      throw DataError(where + ": expected at least " + std::to_string(need) + " " + separated_ + " cells (text at index " +
                      std::to_string(t_.text) + ", label at index " + std::to_string(t_.label) + "), got " +
                      std::to_string(cells.size()) + ": " + list_cells(cells));
    if (cells[t_.label].empty()) throw DataError(where + ": the label (index " + std::to_string(t_.label) + ") is empty");
    examples_.push_back({cells[t_.text], cells[t_.label], where});
  }

  LabelledFile done(const std::string& path) {
    if (examples_.empty()) throw DataError(path + ": the file holds no examples");
    return {std::move(examples_), t_.layout};
  }

 private:
  LabelledColumns columns_;
  const char* separated_;
  bool first_ = true;
  TableColumns t_;
  std::vector<TextExample> examples_;
};

// Calls f(cells, "FILE:N") for each row of a TSV ("tsv") or CSV ("csv") file.
void for_each_row(DataKind kind, const std::string& path,
                  const std::function<void(const std::vector<std::string>&, const std::string&)>& f) {
  if (kind == DataKind::Csv) {
    for_each_csv_record(path, [&](std::vector<std::string>& cells, const std::string& where) {
      for (size_t i = 0; i < cells.size(); ++i) check_utf8(cells[i], where + ": column " + std::to_string(i));
      f(cells, where);
    });
    return;
  }
  std::vector<std::string> cells;
  for_each_line(path, [&](const std::string& line, const std::string& where) {
    check_utf8(line, where);
    cells.clear();
    for (size_t from = 0;;) {
      const auto tab = line.find('\t', from);
      cells.push_back(line.substr(from, tab == std::string::npos ? std::string::npos : tab - from));
      if (tab == std::string::npos) break;
      from = tab + 1;
    }
    f(cells, where);
  });
}

const char* separated(DataKind kind) { return kind == DataKind::Csv ? "comma-separated" : "tab-separated"; }

LabelledFile read_table(DataKind kind, const std::string& path, const LabelledColumns& columns) {
  TableReader reader(columns, separated(kind));
  for_each_row(kind, path, [&](const std::vector<std::string>& cells, const std::string& where) { reader.row(cells, where); });
  return reader.done(path);
}

// An unlabelled table: the text column and the id column (optional), the first row deciding.
UnlabelledFile read_unlabelled_table(DataKind kind, const std::string& path, const UnlabelledColumns& c) {
  UnlabelledFile file;
  bool first = true, header = false, has_id = false;
  size_t text = 0, id = 0;
  for_each_row(kind, path, [&](const std::vector<std::string>& cells, const std::string& where) {
    if (first) {
      first = false;
      const FirstRow row{cells, where};
      header = c.header == HeaderLine::Yes || (c.header == HeaderLine::Auto && (row.names(c.text) || row.names(c.id) || row.has(kTextNames)));
      const std::string hint = "give the column's 0-based index, or --header true";
      text = *row.resolve(header, c.text, "--text-column", "text", kTextNames, 0, true, hint);
      const auto id_at = row.resolve(header, c.id, "--id-column", "id", kIdNames, std::nullopt, false, hint);
      has_id = id_at.has_value();
      id = id_at.value_or(0);
      file.layout = std::string(header ? "a header line" : "no header line") + ", " + separated(kind) + "; text: column " +
                    row.describe(header, text) +
                    (has_id ? ", id: column " + row.describe(header, id) : std::string(", no id column"));
      if (header) return;
    }
    const size_t need = std::max(text, has_id ? id : 0) + 1;
    if (cells.size() < need)
      throw DataError(where + ": expected at least " + std::to_string(need) + " " + separated(kind) + " cells (text at index " +
                      std::to_string(text) + (has_id ? ", id at index " + std::to_string(id) : std::string()) + "), got " +
                      std::to_string(cells.size()) + ": " + list_cells(cells));
    file.rows.push_back({has_id ? std::optional<std::string>(cells[id]) : std::nullopt, cells[text], where});
  });
  return file;
}

UnlabelledFile read_unlabelled_jsonl(const std::string& path, const UnlabelledColumns& c) {
  for (const auto* col : {&c.text, &c.id})
    if (is_index(*col))
      throw DataError(std::string(col == &c.text ? "--text-column " : "--id-column ") + *col +
                      ": JSON lines name their fields; give the key");
  UnlabelledFile file;
  std::string text_key, id_key;
  bool first = true;
  for_each_line(path, [&](const std::string& line, const std::string& where) {
    check_utf8(line, where);
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) throw DataError(where + ": not a JSON object: " + quote_value(line, 120));
    if (first) {
      first = false;
      auto pick = [&](const std::string& configured, const char* fallback, std::initializer_list<const char*> known) {
        if (!configured.empty()) return configured;
        if (j.contains(fallback)) return std::string(fallback);
        for (const auto& [key, value] : j.items())
          if (is_column_name(key, known)) return key;
        return std::string();
      };
      text_key = pick(c.text, "text", kTextNames);
      if (text_key.empty()) text_key = "text";
      id_key = pick(c.id, "id", kIdNames);
      file.layout = "JSON lines; text: key \"" + text_key + "\"" + (id_key.empty() ? ", no id key" : ", id: key \"" + id_key + "\"");
    }
    if (!j.contains(text_key) || !j[text_key].is_string())
      throw DataError(where + ": expected {\"" + text_key + "\": \"...\"} (--text-column names another key)");
    std::optional<std::string> id;
    if (!id_key.empty()) {
      if (!j.contains(id_key)) throw DataError(where + ": no \"" + id_key + "\" key (--id-column)");
      id = j[id_key].is_string() ? j[id_key].get<std::string>() : j[id_key].dump();
    }
    file.rows.push_back({std::move(id), j[text_key].get<std::string>(), where});
  });
  return file;
}

LabelledFile read_jsonl_file(const std::string& path, const LabelledColumns& columns) {
  for (const auto* c : {&columns.text, &columns.label})
    if (is_index(*c))
      throw DataError("data." + std::string(c == &columns.text ? "text" : "label") + "_column " + *c +
                      ": JSON lines name their fields; give the key, e.g. \"" +
                      (c == &columns.text ? "text" : "label") + "\"");
  LabelledFile file;
  std::string text_key, label_key;
  for_each_line(path, [&](const std::string& line, const std::string& where) {
    check_utf8(line, where);
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw DataError(where + ": not valid JSON: " + quote_value(line, 120));
    if (!j.is_object()) throw DataError(where + ": not a JSON object: " + quote_value(line, 120));
    if (text_key.empty()) {  // the first object decides, as a header line does
      auto pick = [&](const std::string& configured, const char* fallback, std::initializer_list<const char*> known) {
        if (!configured.empty()) return configured;
        if (j.contains(fallback)) return std::string(fallback);
        for (const auto& [key, value] : j.items())
          if (is_column_name(key, known)) return key;
        return std::string(fallback);
      };
      text_key = pick(columns.text, "text", kTextNames);
      label_key = pick(columns.label, "label", kLabelNames);
      file.layout = "JSON lines; text: key \"" + text_key + "\", label: key \"" + label_key + "\"";
    }
    const bool ok = j.contains(text_key) && j[text_key].is_string() && j.contains(label_key) &&
                    (j[label_key].is_string() || j[label_key].is_number_integer());
    if (!ok)
      throw DataError(where + ": expected {\"" + text_key + "\": \"...\", \"" + label_key +
                      "\": \"...\"} (the label a string or an integer; data.text_column and data.label_column name "
                      "other keys)");
    auto label = j[label_key].is_string() ? j[label_key].get<std::string>() : j[label_key].dump();
    if (label.empty()) throw DataError(where + ": the label is empty");
    file.examples.push_back({j[text_key].get<std::string>(), std::move(label), where});
  });
  return file;
}

}  // namespace

LabelledFile read_labelled_file(DataKind kind, const std::string& path, const LabelledColumns& columns) {
  if (kind == DataKind::Tsv || kind == DataKind::Csv) return read_table(kind, path, columns);
  if (kind == DataKind::Jsonl) return read_jsonl_file(path, columns);
  throw DataError("data.kind: \"" + to_string(kind) + "\" is not a labelled-file format (tsv, csv, jsonl)");
}

UnlabelledFile read_unlabelled_file(DataKind kind, const std::string& path, const UnlabelledColumns& columns) {
  if (kind == DataKind::Tsv || kind == DataKind::Csv) return read_unlabelled_table(kind, path, columns);
  if (kind == DataKind::Jsonl) return read_unlabelled_jsonl(path, columns);
  throw DataError("\"" + to_string(kind) + "\" is not a table format (tsv, csv, jsonl)");
}

std::vector<TextExample> read_tsv(const std::string& path) { return read_labelled_file(DataKind::Tsv, path).examples; }

std::vector<TextExample> read_jsonl(const std::string& path) { return read_labelled_file(DataKind::Jsonl, path).examples; }

}  // namespace attn
