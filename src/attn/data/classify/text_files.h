// Reading labelled text: the IMDB layout aclImdb/{train,test}/{pos,neg}/*.txt, TSV files
// (label<TAB>text) and JSON lines ({"text": ..., "label": ...}). Torch-free.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "attn/core/errors.h"

namespace attn {

struct TextExample {
  std::string text;
  std::string label;
  std::string where;  ///< "file" or "file:line", for error messages
};

/// root/split/{neg,pos}/*.txt in file-name order, neg first (labels "neg" and "pos").
std::vector<TextExample> read_imdb_split(const std::string& root, const std::string& split);

/// One example per non-empty line: label<TAB>text.
std::vector<TextExample> read_tsv(const std::string& path);

/// One JSON object per non-empty line with a string "text" and a string or integer "label".
std::vector<TextExample> read_jsonl(const std::string& path);

/// read_tsv or read_jsonl by kind ("tsv" | "jsonl").
std::vector<TextExample> read_labelled_file(const std::string& kind, const std::string& path);

}  // namespace attn
