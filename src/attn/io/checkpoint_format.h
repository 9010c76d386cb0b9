// The bytes of a checkpoint file, shared by its writer (checkpoint.cpp) and its reader
// (checkpoint_reader.cpp): the JSON header, and format 3's trailer, "ATTN-CRC", the size of what
// precedes it (8 bytes) and its CRC-32 (4 bytes), little-endian. LibTorch's reader is given only
// what precedes the trailer.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "attn/io/checkpoint.h"

namespace attn::checkpoint_format {

nlohmann::json header_json(const CheckpointHeader& h);

/// The header of the file `path` (named in errors); CheckpointError for a foreign or newer file.
CheckpointHeader parse_header(const nlohmann::json& j, const std::string& path);

uint32_t crc32_of(const void* data, size_t size);

/// "1a2b3c4d"
std::string hex32(uint32_t x);

constexpr size_t kTrailerSize = 8 + 8 + 4;

struct Trailer {
  uint64_t size = 0;
  uint32_t crc = 0;
};

/// Whether `bytes` end with a trailer (format 3 and later).
bool has_trailer(const std::string& bytes);
Trailer read_trailer(const std::string& bytes);

/// `bytes` with their trailer appended.
std::string with_checksum(std::string bytes);

}  // namespace attn::checkpoint_format
