#include "attn/io/torch_state_dict.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <map>
#include <memory>
#include <tuple>

#include "attn/core/errors.h"

namespace attn {

namespace {

// The Python values a state dict's pickle builds, owned by the reader (a pickle can make a list
// that holds itself: no reference counting, whose cycles would leak).
struct Obj;
using Ptr = Obj*;
struct Obj {
  enum class Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor } kind = Kind::None;
  int64_t i = 0;
  double f = 0;
  std::string s;                         // Str; Global: "module.name"
  std::vector<Ptr> items;                // Tuple, List
  std::vector<std::pair<Ptr, Ptr>> dict;  // Dict, in insertion order
  torch::Tensor tensor;                  // Storage (1-d, its dtype), Tensor
};

// torch.<X>Storage -> dtype
const std::map<std::string, c10::ScalarType> kStorages = {
    {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
    {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
    {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
    {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
    {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool}};

class Reader {
 public:
  Reader(const std::string& path, const std::string& pickle, caffe2::serialize::PyTorchStreamReader& archive)
      : path_(path), p_(pickle), archive_(archive) {}

  Ptr make(Obj::Kind kind) {
    arena_.push_back(std::make_unique<Obj>());
    arena_.back()->kind = kind;
    return arena_.back().get();
  }

  Ptr run() {
    for (;;) {
      const auto op = byte();
      switch (op) {
        case 0x80: byte(); break;                                  // PROTO
        case 0x95: bytes(8); break;                                // FRAME
        case '.': return pop();                                    // STOP
        case '(': marks_.push_back(stack_.size()); break;          // MARK
        case 'c': {                                                // GLOBAL module\nname\n
          auto module = line(), name = line();
          push_global(module + "." + name);
          break;
        }
        case 0x93: {                                               // STACK_GLOBAL
          auto name = pop(), module = pop();
          push_global(module->s + "." + name->s);
          break;
        }
        case 'q': memo_[byte()] = top(); break;                    // BINPUT
        case 'r': memo_[uint(4)] = top(); break;                   // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;             // MEMOIZE
        case 'h': push(memo(byte())); break;                       // BINGET
        case 'j': push(memo(uint(4))); break;                      // LONG_BINGET
        case ')': push(make(Obj::Kind::Tuple)); break;             // EMPTY_TUPLE
        case 't': push(collect(Obj::Kind::Tuple)); break;          // TUPLE
        case 0x85: case 0x86: case 0x87: {                         // TUPLE1..3
          auto t = make(Obj::Kind::Tuple);
          t->items.resize(op - 0x84);
          for (size_t k = t->items.size(); k-- > 0;) t->items[k] = pop();
          push(t);
          break;
        }
        case ']': push(make(Obj::Kind::List)); break;              // EMPTY_LIST
        case 'l': push(collect(Obj::Kind::List)); break;           // LIST
        case 'a': {                                                // APPEND
          auto v = pop();
          list(top())->items.push_back(v);
          break;
        }
        case 'e': {                                                // APPENDS
          auto values = collect(Obj::Kind::List);
          auto& l = list(top())->items;
          l.insert(l.end(), values->items.begin(), values->items.end());
          break;
        }
        case '}': push(make(Obj::Kind::Dict)); break;              // EMPTY_DICT
        case 'd': {                                                // DICT
          auto pairs = collect(Obj::Kind::List);
          auto d = make(Obj::Kind::Dict);
          set_items(d, pairs->items);
          push(d);
          break;
        }
        case 's': {                                                // SETITEM
          auto v = pop(), k = pop();
          set_items(top(), {k, v});
          break;
        }
        case 'u': set_items_from_mark(); break;                    // SETITEMS
        case 'X': push(str(uint(4))); break;                       // BINUNICODE
        case 0x8c: push(str(byte())); break;                       // SHORT_BINUNICODE
        case 0x8d: push(str(uint(8))); break;                      // BINUNICODE8
        case 'T': case 'B': push(str(uint(4))); break;             // BINSTRING, BINBYTES
        case 'U': case 'C': push(str(byte())); break;              // SHORT_BINSTRING, SHORT_BINBYTES
        case 'J': push(integer(static_cast<int32_t>(uint(4)))); break;  // BININT
        case 'K': push(integer(byte())); break;                    // BININT1
        case 'M': push(integer(uint(2))); break;                   // BININT2
        case 0x8a: {                                               // LONG1: little-endian two's complement
          const auto n = byte();
          if (n > 8) fail("an integer of " + std::to_string(n) + " bytes");
          uint64_t v = 0;
          for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(byte()) << (8 * k);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);
          push(integer(static_cast<int64_t>(v)));
          break;
        }
        case 'G': {                                                // BINFLOAT, big-endian
          uint64_t v = 0;
          for (int k = 0; k < 8; ++k) v = v << 8 | byte();
          auto o = make(Obj::Kind::Float);
          std::memcpy(&o->f, &v, 8);
          push(o);
          break;
        }
        case 'N': push(make(Obj::Kind::None)); break;              // NONE
        case 0x88: case 0x89: {                                    // NEWTRUE, NEWFALSE
          auto o = make(Obj::Kind::Bool);
          o->i = op == 0x88;
          push(o);
          break;
        }
        case 'Q': push(persistent(pop())); break;                  // BINPERSID
        case 'R': {                                                // REDUCE
          auto args = pop(), callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'b': {                                                // BUILD: an OrderedDict's _metadata
          pop();
          if (top()->kind != Obj::Kind::Dict) fail("state set on a " + kind_name(top()));
          break;
        }
        default: fail("pickle opcode 0x" + hex(op) + ", which a state dict does not use");
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw CheckpointError(path_ + ": " + what + " (at byte " + std::to_string(at_) +
                          " of its pickle); attn import reads what torch.save(model.state_dict(), f) writes");
  }
  static std::string hex(unsigned v) {
    const char* d = "0123456789abcdef";
    return {d[(v >> 4) & 15], d[v & 15]};
  }
  static std::string kind_name(const Ptr& o) {
    static const char* names[] = {"None", "bool", "int", "float", "str", "tuple", "list", "dict", "class", "storage", "tensor"};
    return o->kind == Obj::Kind::Global ? "class " + o->s : names[static_cast<int>(o->kind)];
  }

  unsigned byte() {
    if (at_ >= p_.size()) fail("the pickle ends early");
    return static_cast<unsigned char>(p_[at_++]);
  }
  std::string bytes(size_t n) {
    if (n > p_.size() - at_) fail("the pickle ends early");
    auto out = p_.substr(at_, n);
    at_ += n;
    return out;
  }
  uint64_t uint(int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(byte()) << (8 * k);
    return v;
  }
  std::string line() {
    const auto end = p_.find('\n', at_);
    if (end == std::string::npos) fail("the pickle ends early");
    auto out = p_.substr(at_, end - at_);
    at_ = end + 1;
    return out;
  }
  Ptr str(uint64_t n) {
    auto o = make(Obj::Kind::Str);
    o->s = bytes(n);
    return o;
  }
  Ptr integer(int64_t v) {
    auto o = make(Obj::Kind::Int);
    o->i = v;
    return o;
  }

  void push(Ptr o) { stack_.push_back(std::move(o)); }
  Ptr pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("the pickle's stack runs empty");
    auto o = stack_.back();
    stack_.pop_back();
    return o;
  }
  Ptr top() {
    if (stack_.empty()) fail("the pickle's stack runs empty");
    return stack_.back();
  }
  Ptr memo(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("a reference to nothing");
    return it->second;
  }
  Ptr collect(Obj::Kind kind) {  // the values since the last MARK
    if (marks_.empty()) fail("a collection without its mark");
    auto o = make(kind);
    o->items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return o;
  }
  Ptr list(const Ptr& o) {
    if (o->kind != Obj::Kind::List) fail("an append to a " + kind_name(o));
    return o;
  }
  void set_items(const Ptr& d, const std::vector<Ptr>& kv) {
    if (d->kind != Obj::Kind::Dict) fail("an item set on a " + kind_name(d));
    for (size_t k = 0; k + 1 < kv.size(); k += 2) d->dict.emplace_back(kv[k], kv[k + 1]);
  }
  void set_items_from_mark() {
    auto kv = collect(Obj::Kind::List);
    set_items(top(), kv->items);
  }

  void push_global(const std::string& name) {
    static const char* allowed[] = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                    "torch._utils._rebuild_parameter"};
    bool ok = kStorages.count(name) > 0;
    for (const char* a : allowed) ok |= name == a;
    if (!ok)
      fail("the Python name " + name.substr(0, 100) + ", which a state dict of tensors does not need (nothing in "
           "the file is run)");
    auto o = make(Obj::Kind::Global);
    o->s = name;
    push(o);
  }

  // ('storage', torch.XStorage, key, location, numel): the record data/<key> as a 1-d tensor.
  Ptr persistent(const Ptr& pid) {
    if (pid->kind != Obj::Kind::Tuple || pid->items.size() < 5 || pid->items[0]->s != "storage" ||
        pid->items[1]->kind != Obj::Kind::Global || kStorages.count(pid->items[1]->s) == 0 ||
        pid->items[2]->kind != Obj::Kind::Str ||
        pid->items[4]->kind != Obj::Kind::Int)
      fail("a persistent reference that is not a tensor storage");
    const auto dtype = kStorages.at(pid->items[1]->s);
    const auto& key = pid->items[2]->s;
    auto& storage = storages_[key];
    if (!storage) {
      const auto record = "data/" + key;
      at::DataPtr data;
      size_t size = 0;
      try {
        if (!archive_.hasRecord(record)) fail("no record " + record + " for a tensor's storage");
        std::tie(data, size) = archive_.getRecord(record);
      } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        fail("record " + record + " cannot be read (" + what.substr(0, what.find('\n')).substr(0, 120) + ")");
      }
      const int64_t numel = pid->items[4]->i;
      const auto item = static_cast<int64_t>(c10::elementSize(dtype));
      if (numel < 0 || static_cast<uint64_t>(numel) > size / static_cast<uint64_t>(item))
        fail("record " + record + " holds " + std::to_string(size) + " bytes, not " + std::to_string(numel) +
             " values of " + std::to_string(item) + " bytes");
      storage = make(Obj::Kind::Storage);
      storage->tensor = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
      if (numel > 0) std::memcpy(storage->tensor.data_ptr(), data.get(), static_cast<size_t>(numel * item));
    }
    return storage;
  }

  std::vector<int64_t> ints(const Ptr& t) {
    if (t->kind != Obj::Kind::Tuple) fail("a tensor's size or stride that is not a tuple");
    std::vector<int64_t> out;
    for (const auto& v : t->items) {
      if (v->kind != Obj::Kind::Int) fail("a tensor's size or stride that is not integers");
      out.push_back(v->i);
    }
    return out;
  }

  Ptr reduce(const Ptr& callable, const Ptr& args) {
    if (callable->kind != Obj::Kind::Global || args->kind != Obj::Kind::Tuple) fail("a call of a " + kind_name(callable));
    const auto& name = callable->s;
    const auto& a = args->items;
    if (name == "collections.OrderedDict") return make(Obj::Kind::Dict);
    if (name == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Obj::Kind::Tensor) fail("a parameter without its tensor");
      return a[0];
    }
    if (name == "torch._utils._rebuild_tensor_v2") {  // (storage, offset, size, stride, requires_grad, hooks)
      if (a.size() < 4 || a[0]->kind != Obj::Kind::Storage || a[1]->kind != Obj::Kind::Int)
        fail("a tensor rebuilt from something other than a storage");
      const auto size = ints(a[2]), stride = ints(a[3]);
      const auto& storage = a[0]->tensor;
      if (size.size() != stride.size()) fail("a tensor whose size and stride differ in length");
      // The view stays inside its storage and holds no more elements than it: the highest
      // element it reaches, and its element count, computed without overflow.
      const int64_t n = storage.numel();
      int64_t last = a[1]->i, count = 1;
      bool ok = last >= 0 && last <= n;
      for (size_t d = 0; ok && d < size.size(); ++d) {
        ok = size[d] >= 0 && stride[d] >= 0 && !__builtin_mul_overflow(count, size[d], &count) && count <= n;
        int64_t reach = 0;
        if (ok && size[d] > 0) ok = !__builtin_mul_overflow(size[d] - 1, stride[d], &reach) && !__builtin_add_overflow(last, reach, &last);
      }
      if (!ok || (count > 0 && last >= n)) fail("a tensor that reaches past its storage");
      auto t = make(Obj::Kind::Tensor);
      t->tensor = storage.as_strided(size, stride, a[1]->i).clone();
      return t;
    }
    fail("a call of " + name);
  }

  std::string path_;
  const std::string& p_;
  caffe2::serialize::PyTorchStreamReader& archive_;
  size_t at_ = 0;
  std::vector<Ptr> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, Ptr> memo_;
  std::map<std::string, Ptr> storages_;
  std::vector<std::unique_ptr<Obj>> arena_;
};

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> read_torch_state_dict(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> archive;
  std::string pickle;
  try {
    archive = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
    if (!archive->hasRecord("data.pkl")) throw CheckpointError(path + ": a zip without the data.pkl of torch.save");
    auto [data, size] = archive->getRecord("data.pkl");
    pickle.assign(static_cast<const char*>(data.get()), size);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw CheckpointError(path + ": not a file torch.save wrote (" + what.substr(0, what.find('\n')).substr(0, 160) +
                          "); save the model with torch.save(model.state_dict(), f) (PyTorch 1.6 or later)");
  }
  Reader reader(path, pickle, *archive);
  const auto root = reader.run();
  if (root->kind != Obj::Kind::Dict)
    throw CheckpointError(path + ": holds a single value, not a state dict; save torch.save(model.state_dict(), f)");
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [k, v] : root->dict) {
    if (k->kind != Obj::Kind::Str || v->kind != Obj::Kind::Tensor)
      throw CheckpointError(path + ": a state dict maps names to tensors; this one holds other values (a whole "
                            "checkpoint? save model.state_dict() alone)");
    out.emplace_back(k->s, v->tensor);
  }
  return out;
}

}  // namespace attn
