// The safetensors layout of checkpoints: what is written reads back, a file written by hand to
// the published spec reads as the spec says, and every malformed header or range is refused.
#include "attn/io/safetensors.h"

#include <catch2/catch.hpp>

#include <cstring>

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_safetensors {

using namespace attn;

namespace {

// A file from its JSON header and data bytes, as the spec lays it out.
std::string file_of(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string le_floats(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) {
    unsigned char b[4];
    uint32_t u;
    std::memcpy(&u, &v, 4);
    for (int i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>((u >> (8 * i)) & 0xff);
    out.append(reinterpret_cast<char*>(b), 4);
  }
  return out;
}

}  // namespace

TEST_CASE("safetensors: every dtype and shape reads back bit for bit, with the metadata", "[checkpoint][safetensors]") {
  attn::test::seed();
  const safetensors::Named tensors = {
      {"f32", torch::randn({3, 4})},
      {"f64", torch::randn({2}, torch::kDouble)},
      {"bf16", torch::randn({5}).to(torch::kBFloat16)},
      {"f16", torch::randn({1, 2, 3}).to(torch::kHalf)},
      {"i64 scalar", torch::tensor(int64_t{-7})},
      {"i32", torch::randint(-100, 100, {4}, torch::kInt)},
      {"u8", torch::randint(0, 255, {6}, torch::kByte)},
      {"bool", torch::rand({3}) > 0.5},
      {"empty", torch::zeros({0, 3})},
      {"strided", torch::randn({4, 4}).t()},  // not contiguous: written in C order
  };
  const auto bytes = safetensors::write(tensors, {{"format", "pt"}, {"note", "ünïcode"}});
  uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  CHECK((8 + header) % 8 == 0);  // the data starts aligned
  const safetensors::View view(bytes.data(), bytes.size());
  CHECK(view.metadata().at("note") == "ünïcode");
  CHECK(view.names().size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    INFO(name);
    const auto back = view.tensor(name);
    CHECK(back.scalar_type() == t.scalar_type());
    CHECK(back.sizes() == t.sizes());
    CHECK(torch::equal(back, t));
  }
  CHECK_THROWS_AS(view.tensor("absent"), std::out_of_range);
}

TEST_CASE("safetensors: a file written by hand to the spec reads as the spec says", "[checkpoint][safetensors]") {
  // Keys in another order than ours, the metadata last, the header padded with spaces.
  const std::string header =
      R"({"b":{"shape":[2],"data_offsets":[8,16],"dtype":"F32"},"a":{"dtype":"F32","data_offsets":[0,8],"shape":[1,2]},"__metadata__":{"k":"v"}})"
      "   ";
  const auto bytes = file_of(header, le_floats({1.5f, -2.0f, 3.25f, 0.0f}));
  const safetensors::View view(bytes.data(), bytes.size());
  CHECK(torch::equal(view.tensor("a"), torch::tensor({{1.5f, -2.0f}})));
  CHECK(torch::equal(view.tensor("b"), torch::tensor({3.25f, 0.0f})));
  CHECK(view.metadata().at("k") == "v");
}

TEST_CASE("safetensors: malformed headers and ranges are refused, saying what is wrong", "[checkpoint][safetensors]") {
  auto refused = [](const std::string& bytes) {
    try {
      safetensors::View(bytes.data(), bytes.size());
      return std::string("accepted");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
  };
  const auto data = le_floats({1, 2, 3, 4});
  auto one = [&](const std::string& entry) { return file_of("{\"t\":" + entry + "}", data); };
  CHECK_THAT(refused("abc"), Catch::Contains("shorter than"));
  CHECK_THAT(refused(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}"), Catch::Contains("a header of"));
  CHECK_THAT(refused(file_of("[1,2]", "")), Catch::Contains("not a JSON object"));
  CHECK_THAT(refused(file_of("{\"t\":", "")), Catch::Contains("not a JSON object"));
  CHECK_THAT(refused(one(R"({"dtype":"F17","shape":[4],"data_offsets":[0,16]})")), Catch::Contains("unknown dtype"));
  CHECK_THAT(refused(one(R"({"dtype":"F32","shape":[-4],"data_offsets":[0,16]})")), Catch::Contains("non-negative"));
  CHECK_THAT(refused(one(R"({"dtype":"F32","shape":[4],"data_offsets":[0,32]})")), Catch::Contains("outside"));
  CHECK_THAT(refused(one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,16]})")), Catch::Contains("bytes for a tensor of"));
  CHECK_THAT(refused(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})")), Catch::Contains("do not cover"));
  CHECK_THAT(refused(one(R"({"dtype":"F32","shape":[4]})")), Catch::Contains("expected {dtype, shape, data_offsets}"));
  CHECK_THAT(refused(one(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]})")),
             Catch::Contains("too large"));
  CHECK_THAT(refused(file_of(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                             data)),
             Catch::Contains("overlap or leave a gap"));
  CHECK_THAT(refused(file_of(R"({"__metadata__":{"k":1}})", "")), Catch::Contains("is not a string"));
  CHECK(refused(file_of("{}", "")) == "accepted");
}

}  // namespace test_safetensors
