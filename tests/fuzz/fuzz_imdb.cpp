// The IMDB reader: a review file (its name from the first line of the input, its text the rest)
// in the aclImdb layout.
#include "attn/data/classify/text_files.h"
#include "fuzz_support.h"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  const std::string input = attn::fuzz::as_string(data, size);
  const auto nl = input.find('\n');
  std::string name = input.substr(0, std::min(nl, size_t(64)));
  for (auto& c : name)
    if (c == '/' || c == '\0') c = '_';
  if (name.empty() || name == "." || name == "..") name = "0_1";
  const fs::path root = attn::fuzz::scratch() / "imdb";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root / "train" / "pos");
  fs::create_directories(root / "train" / "neg");
  std::ofstream(root / "train" / "pos" / (name + ".txt"), std::ios::binary)
      << (nl == std::string::npos ? std::string() : input.substr(nl + 1));
  std::ofstream(root / "train" / "neg" / "1_2.txt", std::ios::binary) << "a plain review";
  try {
    const auto examples = attn::read_imdb_split(root.string(), "train");
    if (examples.size() != 2) __builtin_trap();  // both files are read, whatever their text
  } catch (const attn::DataError&) {
  }
  return 0;
}
