// Small UTF-8 helpers shared by the text code: checking, decoding one code point, encoding one,
// and lower-casing. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace attn {

/// The code point at s[i], its byte length in `len`; an invalid byte decodes as itself, len 1.
uint32_t utf8_decode(std::string_view s, size_t i, size_t& len);

/// Appends the UTF-8 bytes of `cp` to `out`.
void utf8_encode(uint32_t cp, std::string& out);

/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
/// On failure `offset` receives the byte offset of the first bad sequence.
bool valid_utf8(std::string_view text, size_t* offset = nullptr);

/// Removes a UTF-8 byte-order mark (EF BB BF) from the start of `text`, as editors on Windows
/// write one; returns whether there was one.
bool strip_bom(std::string& text);

/// Lower-cases UTF-8 text: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (what Python's
/// str.lower() does for those blocks); other characters and invalid bytes are kept as they are.
std::string utf8_lower(std::string_view text);

}  // namespace attn
