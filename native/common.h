// Shared helpers of the losstopo addon: tensor handles, argument conversion, and the boundary
// where C++ exceptions become JS errors (they must never abort the process).
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <functional>
#include <string>
#include <vector>

namespace lt {

// A JS tensor is an External holding one of these. dispose() drops the tensor early; the finalizer
// frees whatever is left. `bytes` is what was reported to V8 as external memory.
struct Handle {
  at::Tensor t;
  int64_t bytes = 0;
  bool disposed = false;
};

// Live handle accounting, for memory() and leak tests.
struct Stats {
  int64_t tensors = 0;
  int64_t bytes = 0;
};
Stats& stats();

// Thrown for bad arguments; converted to a JS TypeError/Error with `op` and `kind` set.
struct ArgError : std::runtime_error {
  std::string kind;
  ArgError(const std::string& kind_, const std::string& msg) : std::runtime_error(msg), kind(kind_) {}
};

Napi::Value wrap(Napi::Env env, at::Tensor t);
Napi::Value wrapOrNull(Napi::Env env, const at::Tensor& t);
at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i, const char* name);
c10::optional<at::Tensor> optTensorArg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::vector<int64_t> intListArg(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name);
double numArg(const Napi::CallbackInfo& info, size_t i, const char* name);
bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string strArg(const Napi::CallbackInfo& info, size_t i, const char* name);
at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i, const char* name);
at::MemoryFormat formatArg(const Napi::CallbackInfo& info, size_t i, const char* name);
const char* dtypeName(at::ScalarType t);
Napi::Array wrapList(Napi::Env env, const std::vector<at::Tensor>& ts);

// Runs `body` and converts every C++ exception into a JS Error carrying {op, kind}.
Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, const std::function<Napi::Value()>& body);

using Exports = std::vector<std::pair<const char*, Napi::Function::Callback>>;
void registerTensorFns(Napi::Env env, Napi::Object exports);
void registerOpFns(Napi::Env env, Napi::Object exports);
void registerOptimFns(Napi::Env env, Napi::Object exports);

}  // namespace lt

// Defines an exported function `name` whose body runs guarded under op name `#name`.
#define LT_FN(name) \
  static Napi::Value name##_impl(const Napi::CallbackInfo& info); \
  static Napi::Value name(const Napi::CallbackInfo& info) { return lt::guarded(info, #name, [&] { return name##_impl(info); }); } \
  static Napi::Value name##_impl(const Napi::CallbackInfo& info)
