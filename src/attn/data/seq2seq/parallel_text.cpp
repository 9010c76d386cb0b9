#include "attn/data/seq2seq/parallel_text.h"

#include <zlib.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "attn/core/utf8.h"
#include "attn/data/fetch_hint.h"

namespace attn {

namespace {

bool blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

void check_utf8(const std::string& line, const std::string& where) {
  size_t at = 0;
  if (!valid_utf8(line, &at))
    throw DataError(where + ": invalid UTF-8 at byte " + std::to_string(at) + " (convert the file to UTF-8)");
}

}  // namespace

std::vector<std::string> read_lines(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    // gzread reads plain files unchanged, so one path serves both.
    std::unique_ptr<gzFile_s, decltype(&gzclose)> gz(gzopen(path.c_str(), "rb"), &gzclose);
    if (!gz) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) throw DataError(path + ": no such file" + fetch_hint(path));
      throw DataError(path + ": cannot read the file (check it is readable)");
    }
    char buf[1 << 16];
    int n;
    while ((n = gzread(gz.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    // A stream cut short ends reads like the end of the file (n == 0), with Z_BUF_ERROR pending:
    // the lines read so far are not the file.
    int code = Z_OK;
    const char* msg = gzerror(gz.get(), &code);
    if (n < 0 || code != Z_OK)
      throw DataError(path + ": cannot decompress (" + std::string(msg && *msg ? msg : "error") + ") after " +
                      std::to_string(text.size()) + " bytes of text; the .gz file is damaged or cut short");
  }
  strip_bom(text);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    check_utf8(line, path + ":" + std::to_string(lines.size() + 1));
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

ParallelText read_parallel(const std::string& source_path, const std::string& target_path) {
  const auto src = read_lines(source_path), tgt = read_lines(target_path);
  if (src.size() != tgt.size())
    throw DataError(source_path + " has " + std::to_string(src.size()) + " lines but " + target_path +
                    " has " + std::to_string(tgt.size()) + "; the files must be line-aligned translations");
  ParallelText out;
  for (size_t i = 0; i < src.size(); ++i) {
    if (blank(src[i]) || blank(tgt[i])) {
      ++out.skipped_empty;
      continue;
    }
    out.pairs.push_back({src[i], tgt[i], source_path + ":" + std::to_string(i + 1)});
  }
  if (out.pairs.empty())
    throw DataError(source_path + ", " + target_path + ": no sentence pair (the files are empty or blank)");
  return out;
}

ParallelText read_parallel_tsv(const std::string& path) {
  const auto lines = read_lines(path);
  ParallelText out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (blank(lines[i])) continue;
    const std::string where = path + ":" + std::to_string(i + 1);
    const auto tab = lines[i].find('\t');
    if (tab == std::string::npos) throw DataError(where + ": expected source<TAB>target");
    TextPair p{lines[i].substr(0, tab), lines[i].substr(tab + 1), where};
    if (blank(p.source) || blank(p.target)) {
      ++out.skipped_empty;
      continue;
    }
    out.pairs.push_back(std::move(p));
  }
  if (out.pairs.empty()) throw DataError(path + ": no sentence pair (the file is empty or blank)");
  return out;
}

ParallelText read_parallel_files(const std::string& source_path, const std::string& target_path) {
  return target_path.empty() ? read_parallel_tsv(source_path) : read_parallel(source_path, target_path);
}

}  // namespace attn
