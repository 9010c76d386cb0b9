// What to say when a data file of the shipped configs is missing: the command that fetches it
// (scripts/get_data.sh). Torch-free.
#pragma once

#include <string>

namespace attn {

/// "; `bash scripts/get_data.sh multi30k` fetches it" for a file of a data set that script lays
/// out (Multi30k's task 1 files, the IMDB tree), "" for any other path.
std::string fetch_hint(const std::string& path);

}  // namespace attn
