// Durable writes: a file appears under its real name whole or not at all, and stays there after
// a crash or a power cut. Torch-free.
#pragma once

#include <string>

namespace attn {

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename over `path`,
/// fsync of the directory. Throws std::runtime_error naming `path` when the disk is full or
/// read-only; `path` then still holds what it held before.
/// Test hook: ATTN_FAIL_CHECKPOINT_WRITE=N makes the N-th write of a .pt file fail half-way.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace attn
