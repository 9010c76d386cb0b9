// Parallel text for set-to-set training: two line-aligned files (source, target), plain or
// gzip-compressed, or one TSV of source<TAB>target pairs. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attn/data/classify/text_files.h"

namespace attn {

struct TextPair {
  std::string source, target;
  std::string where;  ///< "file:line", for messages
};

struct ParallelText {
  std::vector<TextPair> pairs;
  int64_t skipped_empty = 0;  ///< pairs with an empty side, left out
};

/// Every line of a text file, plain or gzip (by content, not by name), '\r' stripped; invalid
/// UTF-8 is a DataError naming the file and line. `path` "-" reads standard input.
std::vector<std::string> read_lines(const std::string& path);

/// Two line-aligned files; different line counts are a DataError naming both files. Pairs with
/// an empty side are skipped and counted; no pair left at all is a DataError.
ParallelText read_parallel(const std::string& source_path, const std::string& target_path);

/// One file of source<TAB>target lines (blank lines skipped).
ParallelText read_parallel_tsv(const std::string& path);

/// read_parallel, or read_parallel_tsv when `target_path` is empty.
ParallelText read_parallel_files(const std::string& source_path, const std::string& target_path);

}  // namespace attn
