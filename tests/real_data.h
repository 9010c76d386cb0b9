// The tests on the real data sets in ../shared/data (IMDB, Multi30k): what to do when they are
// not on this machine.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

namespace attn::test {

/// For a test on a real data set that is not on this machine: a warning, and the caller returns
/// (a user's machine without ../shared/data). Where the data must be there (.ci/run sets
/// ATTN_REQUIRE_DATA=1), the test fails instead of passing without having run.
inline void data_missing(const std::string& what) {
  const char* required = std::getenv("ATTN_REQUIRE_DATA");
  if (required && std::string(required) == "1")
    FAIL(what << " is missing, and ATTN_REQUIRE_DATA=1 says it must be there (see data/README.md)");
  WARN("skipped: " << what << " is missing (see data/README.md)");
}

}  // namespace attn::test
