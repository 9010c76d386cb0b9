#include "attn/data/classify/text_files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attn/core/utf8.h"
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
bool is_column_name(std::string cell, std::initializer_list<const char*> names) {
  std::transform(cell.begin(), cell.end(), cell.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return cell == n; });
}

const std::initializer_list<const char*> kLabelNames = {"label", "labels", "class", "sentiment", "target",
                                                        "category", "y"};
const std::initializer_list<const char*> kTextNames = {"text", "sentence", "review", "content", "document",
                                                       "sentence1", "x"};

}  // namespace

std::vector<TextExample> read_tsv(const std::string& path) {
  std::vector<TextExample> out;
  for_each_line(path, [&](const std::string& line, const std::string& where) {
    check_utf8(line, where);
    const auto tab = line.find('\t');
    if (tab == std::string::npos || tab == 0)
      throw DataError(where + ": expected label<TAB>text, got " + quote_value(line, 120));
    const std::string first = line.substr(0, tab), rest = line.substr(tab + 1);
    if (out.empty() && (is_column_name(first, kLabelNames) || is_column_name(first, kTextNames)) &&
        (is_column_name(rest, kTextNames) || is_column_name(rest, kLabelNames)))
      throw DataError(where + ": " + quote_value(line, 120) + " looks like a header line; attn reads label<TAB>text "
                      "lines with no header" + (is_column_name(first, kTextNames) ? ", and these columns are the other "
                      "way round (swap them, e.g. awk -F'\\t' -v OFS='\\t' '{print $2, $1}')" : "") +
                      ": remove the line (tail -n +2)");
    out.push_back({rest, first, where});
  });
  return out;
}

std::vector<TextExample> read_jsonl(const std::string& path) {
  std::vector<TextExample> out;
  for_each_line(path, [&](const std::string& line, const std::string& where) {
    check_utf8(line, where);
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw DataError(where + ": not valid JSON: " + quote_value(line, 120));
    const bool ok = j.is_object() && j.contains("text") && j["text"].is_string() &&
                    j.contains("label") && (j["label"].is_string() || j["label"].is_number_integer());
    if (!ok)
      throw DataError(where + ": expected {\"text\": \"...\", \"label\": \"...\"} (label a string or an integer)");
    auto label = j["label"].is_string() ? j["label"].get<std::string>() : j["label"].dump();
    if (label.empty()) throw DataError(where + ": the label is empty");
    out.push_back({j["text"].get<std::string>(), std::move(label), where});
  });
  return out;
}

std::vector<TextExample> read_labelled_file(const std::string& kind, const std::string& path) {
  if (kind == "tsv") return read_tsv(path);
  if (kind == "jsonl") return read_jsonl(path);
  throw DataError("data.kind: \"" + kind + "\" is not a labelled-file format (tsv, jsonl)");
}

}  // namespace attn
