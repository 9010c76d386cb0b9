// Reading labelled text: the IMDB layout aclImdb/{train,test}/{pos,neg}/*.txt, and TSV, CSV and
// JSON-lines files with or without a header line, their columns by name or index. Torch-free.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "attn/core/choices.h"
#include "attn/core/errors.h"

namespace attn {

struct TextExample {
  std::string text;
  std::string label;
  std::string where;  ///< "file" or "file:line", for error messages
};

/// root/split/{neg,pos}/*.txt in file-name order, neg first (labels "neg" and "pos").
std::vector<TextExample> read_imdb_split(const std::string& root, const std::string& split);

/// Where a labelled file's text and label are: data.header, data.text_column, data.label_column.
struct LabelledColumns {
  HeaderLine header = HeaderLine::Auto;  ///< Auto: a first line naming the columns is a header
  std::string text;             ///< a column's name or 0-based index (JSON lines: a key); "" = by name
  std::string label;            ///<   (text, sentence, review, ...; label, class, ...), else label 0, text 1
};

/// A labelled file's examples, and how its columns were found, for the log: "a header line,
/// tab-separated; text: column "sentence" (index 0), label: column "label" (index 1)".
struct LabelledFile {
  std::vector<TextExample> examples;
  std::string layout;
};

/// kind Tsv (tab-separated cells, no quoting: GLUE's layout), Csv (RFC 4180, through libcsv:
/// pandas' and spreadsheets' layout) or Jsonl (an object per line); any other kind is a DataError. Blank lines are
/// skipped, a byte-order mark dropped, CRLF read as LF. Errors name the file, the line and the
/// column, with at most ~120 characters of a value.
LabelledFile read_labelled_file(DataKind kind, const std::string& path, const LabelledColumns& columns = {});

/// Where an unlabelled table's text and id are (attn predict): a column's name or 0-based index
/// (JSON lines: a key); "" = by name (text, sentence, ...; id, idx, index, ...), else the text
/// in column 0 and no id.
struct UnlabelledColumns {
  HeaderLine header = HeaderLine::Auto;
  std::string text;
  std::string id;
};

struct UnlabelledRow {
  std::optional<std::string> id;
  std::string text;
  std::string where;
};

/// An unlabelled file's rows, in order, and how its columns were found.
struct UnlabelledFile {
  std::vector<UnlabelledRow> rows;
  std::string layout;
};

/// kind Tsv, Csv or Jsonl, read as read_labelled_file reads them, without labels.
UnlabelledFile read_unlabelled_file(DataKind kind, const std::string& path, const UnlabelledColumns& columns = {});

/// The default layouts: label<TAB>text (or a header line naming the columns); {"text", "label"}.
std::vector<TextExample> read_tsv(const std::string& path);
std::vector<TextExample> read_jsonl(const std::string& path);

}  // namespace attn
