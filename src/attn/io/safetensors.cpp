#include "attn/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace attn::safetensors {

using nlohmann::json;

namespace {

struct DType {
  const char* name;
  torch::ScalarType type;
};

constexpr DType kTypes[] = {
    {"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf}, {"BF16", torch::kBFloat16},
    {"I64", torch::kLong},   {"I32", torch::kInt},   {"I16", torch::kShort}, {"I8", torch::kChar},
    {"U8", torch::kByte},    {"BOOL", torch::kBool},
};

const char* dtype_name(torch::ScalarType t) {
  for (const auto& d : kTypes)
    if (d.type == t) return d.name;
  throw std::invalid_argument(std::string("safetensors: no dtype for ") + c10::toString(t));
}

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference reader's limit

}  // namespace

std::string write(const Named& tensors, const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> cpu;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    cpu.push_back(t.detach().to(torch::kCPU).contiguous());
    const uint64_t bytes = cpu.back().numel() * cpu.back().element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data 8-byte aligned, as the reference writer does
  std::string out(8, '\0');
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += text;
  out.reserve(out.size() + offset);
  for (const auto& t : cpu) out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

View::View(const char* data, size_t size) {
  if (size < 8) throw std::invalid_argument("shorter than the 8-byte header size");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(data[i])) << (8 * i);
  if (n > kMaxHeader || n > size - 8)
    throw std::invalid_argument("a header of " + std::to_string(n) + " bytes in a file of " + std::to_string(size));
  const json header = json::parse(data + 8, data + 8 + n, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) throw std::invalid_argument("the header is not a JSON object");
  data_ = data + 8 + n;
  const size_t data_size = size - 8 - n;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const auto& v = it.value();
    if (it.key() == "__metadata__") {
      if (!v.is_object()) throw std::invalid_argument("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) throw std::invalid_argument("__metadata__." + m.key() + " is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor \"" + it.key().substr(0, 80) + "\"";
    if (!v.is_object() || !v.contains("dtype") || !v["dtype"].is_string() || !v.contains("shape") ||
        !v["shape"].is_array() || !v.contains("data_offsets") || !v["data_offsets"].is_array() ||
        v["data_offsets"].size() != 2)
      throw std::invalid_argument(where + ": expected {dtype, shape, data_offsets}");
    Entry e{};
    const auto dtype = v["dtype"].get<std::string>();
    const auto* type = std::find_if(std::begin(kTypes), std::end(kTypes), [&](const DType& d) { return dtype == d.name; });
    if (type == std::end(kTypes)) throw std::invalid_argument(where + ": unknown dtype " + dtype.substr(0, 16));
    e.dtype = type->type;
    uint64_t bytes = c10::elementSize(e.dtype);
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) throw std::invalid_argument(where + ": a dimension is not a non-negative integer");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > (uint64_t(1) << 40) || (dim != 0 && bytes > (uint64_t(1) << 62) / dim))
        throw std::invalid_argument(where + ": too large");
      e.shape.push_back(static_cast<int64_t>(dim));
      bytes *= dim;
    }
    const auto& o = v["data_offsets"];
    if (!o[0].is_number_unsigned() || !o[1].is_number_unsigned())
      throw std::invalid_argument(where + ": data_offsets are not non-negative integers");
    const uint64_t b = o[0].get<uint64_t>(), end = o[1].get<uint64_t>();
    if (b > end || end > data_size)
      throw std::invalid_argument(where + ": bytes " + std::to_string(b) + ".." + std::to_string(end) +
                                  " outside the " + std::to_string(data_size) + " bytes of data");
    if (end - b != bytes)
      throw std::invalid_argument(where + ": " + std::to_string(end - b) + " bytes for a tensor of " +
                                  std::to_string(bytes));
    e.begin = b, e.end = end;
    ranges.emplace_back(b, end);
    entries_.emplace(it.key(), std::move(e));
  }
  std::sort(ranges.begin(), ranges.end());
  size_t at = 0;
  for (const auto& [b, end] : ranges) {
    if (b != at) throw std::invalid_argument("tensors overlap or leave a gap at byte " + std::to_string(at));
    at = end;
  }
  if (at != data_size) throw std::invalid_argument("the tensors do not cover the data (" + std::to_string(at) +
                                                   " of " + std::to_string(data_size) + " bytes)");
}

torch::Tensor View::tensor(const std::string& name) const {
  const auto found = entries_.find(name);
  if (found == entries_.end()) throw std::out_of_range("no tensor " + name);
  const auto& e = found->second;
  auto t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
  if (e.end > e.begin) std::memcpy(t.data_ptr(), data_ + e.begin, e.end - e.begin);  // x86: little-endian as stored
  return t;
}

std::vector<std::string> View::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

}  // namespace attn::safetensors
