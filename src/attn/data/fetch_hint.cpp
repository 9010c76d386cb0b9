#include "attn/data/fetch_hint.h"

#include <regex>

namespace attn {

std::string fetch_hint(const std::string& path) {
  static const std::regex multi30k(R"((^|/)(train|val|test_2016_flickr)\.(de|en)(\.gz)?$)");
  static const std::regex imdb(R"((^|/)aclImdb(/|$))");
  if (std::regex_search(path, multi30k))
    return "; `bash scripts/get_data.sh multi30k` fetches Multi30k into data/multi30k";
  if (std::regex_search(path, imdb)) return "; `bash scripts/get_data.sh imdb` unpacks IMDB into data/aclImdb";
  return "";
}

}  // namespace attn
