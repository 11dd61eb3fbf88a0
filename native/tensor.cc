// Tensor handles: creation from and to typed arrays, metadata, disposal, memory accounting,
// autograd switches and threads. Everything here is mechanism; policy lives in TypeScript.
#include "common.h"
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/autograd/variable.h>
#include <cstring>
#include <torch/version.h>

namespace lt {

Stats& stats() {
  static Stats s;
  return s;
}

static int64_t nbytesOf(const at::Tensor& t) {
  return t.defined() ? static_cast<int64_t>(t.numel() * t.element_size()) : 0;
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  auto* h = new Handle{std::move(t), 0, false};
  h->bytes = nbytesOf(h->t);
  stats().tensors += 1;
  stats().bytes += h->bytes;
  if (h->bytes) Napi::MemoryManagement::AdjustExternalMemory(env, h->bytes);
  return Napi::External<Handle>::New(env, h, [](Napi::Env env, Handle* h) {
    if (!h->disposed) {
      stats().tensors -= 1;
      stats().bytes -= h->bytes;
      if (h->bytes) Napi::MemoryManagement::AdjustExternalMemory(env, -h->bytes);
    }
    delete h;
  });
}

Napi::Value wrapOrNull(Napi::Env env, const at::Tensor& t) {
  return t.defined() ? wrap(env, t) : env.Null();
}

Napi::Array wrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) arr.Set(i, wrapOrNull(env, ts[i]));
  return arr;
}

static std::string argName(size_t i, const char* name) {
  return std::string("argument ") + std::to_string(i) + " (" + name + ")";
}

static Handle* handleOf(const Napi::Value& v, size_t i, const char* name) {
  if (!v.IsExternal()) throw ArgError("argument", argName(i, name) + " must be a tensor");
  auto* h = v.As<Napi::External<Handle>>().Data();
  if (h->disposed) throw ArgError("disposed", argName(i, name) + " is a disposed tensor");
  return h;
}

at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return handleOf(info[i], i, name)->t;
}

c10::optional<at::Tensor> optTensorArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsNull() || info[i].IsUndefined()) return c10::nullopt;
  return handleOf(info[i], i, name)->t;
}

std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) throw ArgError("argument", argName(i, name) + " must be an array of tensors");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) out.push_back(handleOf(arr.Get(k), i, name)->t);
  return out;
}

std::vector<int64_t> intListArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) throw ArgError("argument", argName(i, name) + " must be an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    auto v = arr.Get(k);
    if (!v.IsNumber()) throw ArgError("argument", argName(i, name) + " must be an array of integers");
    out.push_back(v.As<Napi::Number>().Int64Value());
  }
  return out;
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw ArgError("argument", argName(i, name) + " must be an integer");
  return info[i].As<Napi::Number>().Int64Value();
}

double numArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw ArgError("argument", argName(i, name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) throw ArgError("argument", argName(i, name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string strArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw ArgError("argument", argName(i, name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  auto s = strArg(info, i, name);
  if (s == "float32") return at::kFloat;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "uint8") return at::kByte;
  if (s == "bool") return at::kBool;
  throw ArgError("dtype", argName(i, name) + ": unknown dtype \"" + s + "\" (float32|float64|int64|int32|uint8|bool)");
}

at::MemoryFormat formatArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  auto s = strArg(info, i, name);
  if (s == "contiguous") return at::MemoryFormat::Contiguous;
  if (s == "channels_last") return at::MemoryFormat::ChannelsLast;
  if (s == "preserve") return at::MemoryFormat::Preserve;
  throw ArgError("argument", argName(i, name) + ": unknown memory format \"" + s + "\" (contiguous|channels_last|preserve)");
}

const char* dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(t);
  }
}

Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, const std::function<Napi::Value()>& body) {
  Napi::Env env = info.Env();
  std::string kind, msg;
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const ArgError& e) {
    kind = e.kind;
    msg = e.what();
  } catch (const c10::Error& e) {
    kind = "torch";
    msg = e.what_without_backtrace();
  } catch (const std::exception& e) {
    kind = "native";
    msg = e.what();
  } catch (...) {
    kind = "native";
    msg = "unknown C++ exception";
  }
  // libtorch messages can span lines (with a source location); keep the first meaningful line.
  auto nl = msg.find('\n');
  std::string first = nl == std::string::npos ? msg : msg.substr(0, nl);
  auto err = Napi::Error::New(env, std::string(op) + ": " + first);
  err.Set("op", Napi::String::New(env, op));
  err.Set("kind", Napi::String::New(env, kind));
  err.Set("detail", Napi::String::New(env, msg));
  throw err;
}

}  // namespace lt

using namespace lt;

// fromData(typedArray, shape) -> tensor. Copies, so the JS buffer may be reused at once.
LT_FN(fromData) {
  if (!info[0].IsTypedArray()) throw ArgError("argument", "argument 0 (data) must be a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = intListArg(info, 1, "shape");
  at::ScalarType st;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: st = at::kFloat; break;
    case napi_float64_array: st = at::kDouble; break;
    case napi_bigint64_array: st = at::kLong; break;
    case napi_int32_array: st = at::kInt; break;
    case napi_uint8_array: st = at::kByte; break;
    default: throw ArgError("dtype", "argument 0 (data): unsupported typed array (use Float32Array, Float64Array, BigInt64Array, Int32Array or Uint8Array)");
  }
  int64_t numel = 1;
  for (auto d : shape) {
    if (d < 0) throw ArgError("shape", "shape has a negative dimension");
    numel *= d;
  }
  if (numel != static_cast<int64_t>(ta.ElementLength()))
    throw ArgError("shape", "shape holds " + std::to_string(numel) + " elements but the data has " + std::to_string(ta.ElementLength()));
  auto t = at::empty(shape, at::TensorOptions().dtype(st));
  // napi_get_typedarray_info gives the element pointer for ArrayBuffer and SharedArrayBuffer
  // backings alike (the prefetch loader hands over shared memory).
  napi_typedarray_type tt;
  size_t len, off;
  void* src = nullptr;
  napi_value backing;
  NAPI_THROW_IF_FAILED(info.Env(), napi_get_typedarray_info(info.Env(), ta, &tt, &len, &src, &backing, &off), Napi::Value());
  if (numel) std::memcpy(t.data_ptr(), src, numel * t.element_size());
  return wrap(info.Env(), t);
}

// toData(t) -> typed array copy (logical row-major order, whatever the memory format).
LT_FN(toData) {
  auto t = tensorArg(info, 0, "tensor").detach().to(at::kCPU).contiguous();
  Napi::Env env = info.Env();
  int64_t n = t.numel();
  napi_typedarray_type tt;
  switch (t.scalar_type()) {
    case at::kFloat: tt = napi_float32_array; break;
    case at::kDouble: tt = napi_float64_array; break;
    case at::kLong: tt = napi_bigint64_array; break;
    case at::kInt: tt = napi_int32_array; break;
    case at::kByte: tt = napi_uint8_array; break;
    case at::kBool: t = t.to(at::kByte); tt = napi_uint8_array; break;
    default: throw ArgError("dtype", std::string("cannot copy a ") + dtypeName(t.scalar_type()) + " tensor to JS");
  }
  auto ab = Napi::ArrayBuffer::New(env, n * t.element_size());
  if (n) std::memcpy(ab.Data(), t.data_ptr(), n * t.element_size());
  napi_value out;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, tt, static_cast<size_t>(n), ab, 0, &out), Napi::Value());
  return Napi::Value(env, out);
}

LT_FN(shape) {
  auto& t = tensorArg(info, 0, "tensor");
  auto arr = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(t.size(i))));
  return arr;
}

LT_FN(dtype) { return Napi::String::New(info.Env(), dtypeName(tensorArg(info, 0, "tensor").scalar_type())); }

LT_FN(item) {
  auto& t = tensorArg(info, 0, "tensor");
  if (t.numel() != 1) throw ArgError("shape", "item() needs a tensor with one element, this one has " + std::to_string(t.numel()));
  return Napi::Number::New(info.Env(), t.item<double>());
}

LT_FN(dispose) {
  if (!info[0].IsExternal()) throw ArgError("argument", "argument 0 (tensor) must be a tensor");
  auto* h = info[0].As<Napi::External<Handle>>().Data();
  if (!h->disposed) {
    h->disposed = true;
    h->t = at::Tensor();
    stats().tensors -= 1;
    stats().bytes -= h->bytes;
    if (h->bytes) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -h->bytes);
  }
  return info.Env().Undefined();
}

LT_FN(isDisposed) {
  if (!info[0].IsExternal()) throw ArgError("argument", "argument 0 (tensor) must be a tensor");
  return Napi::Boolean::New(info.Env(), info[0].As<Napi::External<Handle>>().Data()->disposed);
}

LT_FN(memoryStats) {
  auto o = Napi::Object::New(info.Env());
  o.Set("numTensors", Napi::Number::New(info.Env(), static_cast<double>(stats().tensors)));
  o.Set("numBytes", Napi::Number::New(info.Env(), static_cast<double>(stats().bytes)));
  return o;
}

LT_FN(isContiguous) {
  return Napi::Boolean::New(info.Env(), tensorArg(info, 0, "tensor").is_contiguous(formatArg(info, 1, "format")));
}

LT_FN(contiguous) { return wrap(info.Env(), tensorArg(info, 0, "tensor").contiguous(formatArg(info, 1, "format"))); }

LT_FN(clone) { return wrap(info.Env(), tensorArg(info, 0, "tensor").clone(formatArg(info, 1, "format"))); }

LT_FN(detach) { return wrap(info.Env(), tensorArg(info, 0, "tensor").detach()); }

LT_FN(toDtype) { return wrap(info.Env(), tensorArg(info, 0, "tensor").to(dtypeArg(info, 1, "dtype"))); }

// Creation.
LT_FN(zeros) { return wrap(info.Env(), at::zeros(intListArg(info, 0, "shape"), at::TensorOptions().dtype(dtypeArg(info, 1, "dtype")))); }
LT_FN(ones) { return wrap(info.Env(), at::ones(intListArg(info, 0, "shape"), at::TensorOptions().dtype(dtypeArg(info, 1, "dtype")))); }
LT_FN(full) {
  return wrap(info.Env(), at::full(intListArg(info, 0, "shape"), numArg(info, 1, "value"), at::TensorOptions().dtype(dtypeArg(info, 2, "dtype"))));
}
LT_FN(arange) { return wrap(info.Env(), at::arange(intArg(info, 0, "n"), at::TensorOptions().dtype(dtypeArg(info, 1, "dtype")))); }

// Generators: seeded, independent streams, with state readable for exact resume.
static at::Generator& genOf(const Napi::Value& v) {
  if (!v.IsExternal()) throw ArgError("argument", "generator must be a generator handle");
  return *v.As<Napi::External<at::Generator>>().Data();
}
static c10::optional<at::Generator> optGen(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsNull() || info[i].IsUndefined()) return c10::nullopt;
  return genOf(info[i]);
}
LT_FN(generator) {
  auto seed = static_cast<uint64_t>(intArg(info, 0, "seed"));
  auto* g = new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));
  return Napi::External<at::Generator>::New(info.Env(), g, [](Napi::Env, at::Generator* g) { delete g; });
}
LT_FN(generatorGetState) { return wrap(info.Env(), genOf(info[0]).get_state()); }
LT_FN(generatorSetState) {
  genOf(info[0]).set_state(tensorArg(info, 1, "state"));
  return info.Env().Undefined();
}
LT_FN(randn) {
  return wrap(info.Env(), at::randn(intListArg(info, 0, "shape"), optGen(info, 2), at::TensorOptions().dtype(dtypeArg(info, 1, "dtype"))));
}
LT_FN(rand) {
  return wrap(info.Env(), at::rand(intListArg(info, 0, "shape"), optGen(info, 2), at::TensorOptions().dtype(dtypeArg(info, 1, "dtype"))));
}
LT_FN(randperm) {
  auto g = optGen(info, 1);
  return wrap(info.Env(), g ? at::randperm(intArg(info, 0, "n"), *g, at::kLong) : at::randperm(intArg(info, 0, "n"), at::kLong));
}
LT_FN(manualSeed) {
  at::manual_seed(static_cast<uint64_t>(intArg(info, 0, "seed")));
  return info.Env().Undefined();
}

// Autograd.
LT_FN(setRequiresGrad) {
  tensorArg(info, 0, "tensor").requires_grad_(boolArg(info, 1, "requiresGrad"));
  return info.Env().Undefined();
}
LT_FN(requiresGrad) { return Napi::Boolean::New(info.Env(), tensorArg(info, 0, "tensor").requires_grad()); }
LT_FN(grad) { return wrapOrNull(info.Env(), tensorArg(info, 0, "tensor").grad()); }
LT_FN(setGrad) {
  auto& t = tensorArg(info, 0, "tensor");
  auto g = optTensorArg(info, 1, "grad");
  t.mutable_grad() = g ? *g : at::Tensor();
  return info.Env().Undefined();
}
// backward(loss, gradOutput|null, retainGraph, createGraph)
LT_FN(backward) {
  auto& t = tensorArg(info, 0, "tensor");
  auto g = optTensorArg(info, 1, "gradient");
  bool retain = boolArg(info, 2, "retainGraph");
  bool create = boolArg(info, 3, "createGraph");
  if (!t.requires_grad()) throw ArgError("autograd", "the tensor does not require grad (nothing to differentiate: was it computed under noGrad, or from parameters without requiresGrad?)");
  if (!g && t.numel() != 1) throw ArgError("autograd", "backward() without a gradient needs a scalar, this tensor has " + std::to_string(t.numel()) + " elements");
  t.backward(g ? *g : at::Tensor(), retain, create);
  return info.Env().Undefined();
}
// autogradGrad(outputs[], inputs[], gradOutputs[]|null, retainGraph, createGraph, allowUnused) -> grads[] (null where unused)
LT_FN(autogradGrad) {
  auto outs = tensorListArg(info, 0, "outputs");
  auto ins = tensorListArg(info, 1, "inputs");
  std::vector<at::Tensor> gouts;
  if (!info[2].IsNull() && !info[2].IsUndefined()) gouts = tensorListArg(info, 2, "gradOutputs");
  bool retain = boolArg(info, 3, "retainGraph");
  bool create = boolArg(info, 4, "createGraph");
  bool allowUnused = boolArg(info, 5, "allowUnused");
  auto grads = torch::autograd::grad(outs, ins, gouts, retain, create, allowUnused);
  return wrapList(info.Env(), grads);
}
LT_FN(setGradEnabled) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(boolArg(info, 0, "enabled"));
  return Napi::Boolean::New(info.Env(), prev);
}
LT_FN(isGradEnabled) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

LT_FN(setNumThreads) {
  auto n = intArg(info, 0, "threads");
  if (n < 1) throw ArgError("argument", "threads must be at least 1");
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}
LT_FN(getNumThreads) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

LT_FN(buildInfo) {
  auto o = Napi::Object::New(info.Env());
  o.Set("torchVersion", Napi::String::New(info.Env(), TORCH_VERSION));
  o.Set("parallel", Napi::String::New(info.Env(), at::get_parallel_info()));
  o.Set("mkldnn", Napi::Boolean::New(info.Env(), at::hasMKLDNN()));
  o.Set("cuda", Napi::Boolean::New(info.Env(), at::hasCUDA()));
  return o;
}

namespace lt {
void registerTensorFns(Napi::Env env, Napi::Object exports) {
  Exports fns = {
      {"fromData", fromData}, {"toData", toData}, {"shape", shape}, {"dtype", dtype}, {"item", item},
      {"dispose", dispose}, {"isDisposed", isDisposed}, {"memoryStats", memoryStats},
      {"isContiguous", isContiguous}, {"contiguous", contiguous}, {"clone", clone}, {"detach", detach},
      {"toDtype", toDtype}, {"zeros", zeros}, {"ones", ones}, {"full", full}, {"arange", arange},
      {"generator", generator}, {"generatorGetState", generatorGetState}, {"generatorSetState", generatorSetState},
      {"randn", randn}, {"rand", rand}, {"randperm", randperm}, {"manualSeed", manualSeed},
      {"setRequiresGrad", setRequiresGrad}, {"requiresGrad", requiresGrad}, {"grad", grad}, {"setGrad", setGrad},
      {"backward", backward}, {"autogradGrad", autogradGrad}, {"setGradEnabled", setGradEnabled},
      {"isGradEnabled", isGradEnabled}, {"setNumThreads", setNumThreads}, {"getNumThreads", getNumThreads},
      {"buildInfo", buildInfo},
  };
  for (auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
}
}  // namespace lt
