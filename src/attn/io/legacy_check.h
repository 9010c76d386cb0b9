// Checks for checkpoints without a checksum (formats 1 and 2), before LibTorch's reader sees
// them: that reader does not always check the zip's own CRCs, and crashes on some damaged
// archives. Format 3 and later carry a CRC-32 of every byte and skip both.
#pragma once

#include <string>

namespace attn::legacy_check {

/// What is wrong with the zip archive `bytes` (a record's CRC-32, its bounds, its headers), or ""
/// (also for layouts this does not know, e.g. zip64: left to LibTorch).
std::string zip_problem(const std::string& bytes);

/// Reads `bytes` with LibTorch's reader in a forked child: "" when the child came through,
/// else how it died. A second line of defence after zip_problem.
std::string legacy_read_problem(const std::string& bytes);

}  // namespace attn::legacy_check
