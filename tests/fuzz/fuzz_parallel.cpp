// Parallel text: two line-aligned files (split at the first NUL byte), plain or gzip (found by
// content), and the same bytes as one TSV of pairs.
#include "attn/data/seq2seq/parallel_text.h"
#include "attn/data/classify/text_files.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = attn::fuzz::as_string(data, size);
  const auto nul = input.find('\0');
  const auto src = attn::fuzz::write_file("src.txt", input.substr(0, nul));
  const auto tgt = attn::fuzz::write_file("tgt.txt", nul == std::string::npos ? std::string() : input.substr(nul + 1));
  try {
    const auto p = attn::read_parallel(src, tgt);
    for (const auto& pair : p.pairs)
      if (pair.source.empty() || pair.target.empty()) __builtin_trap();  // empty pairs are left out
  } catch (const attn::DataError&) {
  }
  try {
    const auto p = attn::read_parallel_tsv(src);
    for (const auto& pair : p.pairs)
      if (pair.source.empty() || pair.target.empty()) __builtin_trap();  // empty pairs are left out
  } catch (const attn::DataError&) {
  }
  return 0;
}
