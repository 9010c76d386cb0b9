// CSV as RFC 4180 and pandas write it, read with Debian's libcsv: quoted fields holding commas,
// tabs, quotes ("") and newlines; CRLF or LF line ends; a UTF-8 byte-order mark dropped.
// Torch-free.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace attn {

/// Calls f(cells, where) for each record of the CSV file at `path` that is not blank, in order;
/// `where` is "path:LINE", the line the record starts on. A DataError names the file and line of
/// a malformed record (a quote left open, text after a closing quote).
void for_each_csv_record(const std::string& path,
                         const std::function<void(std::vector<std::string>& cells, const std::string& where)>& f);

}  // namespace attn
