// The differentiable ops conv nets and loss-topology work need. Each is a thin call into ATen;
// argument names in errors match the TypeScript signatures.
#include "common.h"
#include <torch/csrc/autograd/variable.h>

using namespace lt;

static bool isTensor(const Napi::Value& v) { return v.IsExternal(); }

// Elementwise unary ops by name; `inplace` mutates the argument.
LT_FN(unary) {
  auto name = strArg(info, 0, "name");
  auto& x = tensorArg(info, 1, "x");
  bool inplace = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  at::Tensor r;
  if (inplace) {
    if (name == "relu") x.relu_();
    else if (name == "neg") x.neg_();
    else if (name == "exp") x.exp_();
    else if (name == "log") x.log_();
    else if (name == "sqrt") x.sqrt_();
    else if (name == "abs") x.abs_();
    else if (name == "sigmoid") x.sigmoid_();
    else if (name == "tanh") x.tanh_();
    else if (name == "square") x.square_();
    else if (name == "zero") x.zero_();
    else throw ArgError("argument", "unknown in-place unary op \"" + name + "\"");
    return info.Env().Undefined();
  }
  if (name == "relu") r = at::relu(x);
  else if (name == "neg") r = at::neg(x);
  else if (name == "exp") r = at::exp(x);
  else if (name == "log") r = at::log(x);
  else if (name == "sqrt") r = at::sqrt(x);
  else if (name == "abs") r = at::abs(x);
  else if (name == "sign") r = at::sign(x);
  else if (name == "sigmoid") r = at::sigmoid(x);
  else if (name == "tanh") r = at::tanh(x);
  else if (name == "square") r = at::square(x);
  else if (name == "isfinite") r = at::isfinite(x);
  else throw ArgError("argument", "unknown unary op \"" + name + "\"");
  return wrap(info.Env(), r);
}

// binary(name, a, b (tensor|number), alpha, inplace): add/sub take alpha (a + alpha*b).
LT_FN(binary) {
  auto name = strArg(info, 0, "name");
  auto& a = tensorArg(info, 1, "a");
  bool bt = isTensor(info[2]);
  at::Tensor b = bt ? tensorArg(info, 2, "b") : at::Tensor();
  // Integer tensors need integer scalars (libtorch refuses to cast a double into them).
  bool integral = !a.is_floating_point();
  auto scalarOf = [&](double v) { return integral && v == static_cast<double>(static_cast<int64_t>(v)) ? at::Scalar(static_cast<int64_t>(v)) : at::Scalar(v); };
  at::Scalar bs = bt ? at::Scalar(0) : scalarOf(numArg(info, 2, "b"));
  at::Scalar alpha = scalarOf(numArg(info, 3, "alpha"));
  bool inplace = boolArg(info, 4, "inplace");
  if (inplace) {
    if (name == "add") bt ? a.add_(b, alpha) : a.add_(bs, alpha);
    else if (name == "sub") bt ? a.sub_(b, alpha) : a.sub_(bs, alpha);
    else if (name == "mul") bt ? a.mul_(b) : a.mul_(bs);
    else if (name == "div") bt ? a.div_(b) : a.div_(bs);
    else if (name == "copy") {
      if (!bt) throw ArgError("argument", "copy_ needs a tensor source");
      a.copy_(b);
    } else if (name == "fill") {
      if (bt) throw ArgError("argument", "fill_ needs a number");
      a.fill_(bs);
    } else throw ArgError("argument", "unknown in-place binary op \"" + name + "\"");
    return info.Env().Undefined();
  }
  at::Tensor r;
  if (name == "add") r = bt ? at::add(a, b, alpha) : at::add(a, bs, alpha);
  else if (name == "sub") r = bt ? at::sub(a, b, alpha) : at::sub(a, bs, alpha);
  else if (name == "mul") r = bt ? at::mul(a, b) : at::mul(a, bs);
  else if (name == "div") r = bt ? at::div(a, b) : at::div(a, bs);
  else if (name == "pow") r = bt ? at::pow(a, b) : at::pow(a, bs);
  else if (name == "maximum") r = bt ? at::maximum(a, b) : at::clamp_min(a, bs);
  else if (name == "minimum") r = bt ? at::minimum(a, b) : at::clamp_max(a, bs);
  else if (name == "eq") r = bt ? at::eq(a, b) : at::eq(a, bs);
  else if (name == "lt") r = bt ? at::lt(a, b) : at::lt(a, bs);
  else if (name == "gt") r = bt ? at::gt(a, b) : at::gt(a, bs);
  else throw ArgError("argument", "unknown binary op \"" + name + "\"");
  return wrap(info.Env(), r);
}

// conv2d(x, weight, bias|null, stride[2], padding[2], dilation[2], groups)
LT_FN(conv2d) {
  return wrap(info.Env(), at::conv2d(tensorArg(info, 0, "x"), tensorArg(info, 1, "weight"), optTensorArg(info, 2, "bias"),
                                     intListArg(info, 3, "stride"), intListArg(info, 4, "padding"), intListArg(info, 5, "dilation"),
                                     intArg(info, 6, "groups")));
}

// batchNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps).
// In training the running statistics are updated in place (PyTorch's momentum convention).
LT_FN(batchNorm) {
  return wrap(info.Env(), at::batch_norm(tensorArg(info, 0, "x"), optTensorArg(info, 1, "weight"), optTensorArg(info, 2, "bias"),
                                         optTensorArg(info, 3, "runningMean"), optTensorArg(info, 4, "runningVar"),
                                         boolArg(info, 5, "training"), numArg(info, 6, "momentum"), numArg(info, 7, "eps"), true));
}

// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
LT_FN(avgPool2d) {
  return wrap(info.Env(), at::avg_pool2d(tensorArg(info, 0, "x"), intListArg(info, 1, "kernel"), intListArg(info, 2, "stride"),
                                         intListArg(info, 3, "padding"), boolArg(info, 4, "ceilMode"), boolArg(info, 5, "countIncludePad")));
}

LT_FN(maxPool2d) {
  return wrap(info.Env(), at::max_pool2d(tensorArg(info, 0, "x"), intListArg(info, 1, "kernel"), intListArg(info, 2, "stride"),
                                         intListArg(info, 3, "padding"), {1, 1}, boolArg(info, 4, "ceilMode")));
}

// reduce(name, x, dims|null, keepdim): sum | mean | amax | amin
LT_FN(reduce) {
  auto name = strArg(info, 0, "name");
  auto& x = tensorArg(info, 1, "x");
  bool all = info[2].IsNull() || info[2].IsUndefined();
  std::vector<int64_t> dims = all ? std::vector<int64_t>{} : intListArg(info, 2, "dims");
  bool keep = boolArg(info, 3, "keepdim");
  at::Tensor r;
  if (name == "sum") r = all ? x.sum() : x.sum(dims, keep);
  else if (name == "mean") r = all ? x.mean() : x.mean(dims, keep);
  else if (name == "amax") r = x.amax(dims, keep);
  else if (name == "amin") r = x.amin(dims, keep);
  else throw ArgError("argument", "unknown reduction \"" + name + "\"");
  return wrap(info.Env(), r);
}

// norm(x, p, dims|null, keepdim): vector p-norm over dims (all elements by default)
LT_FN(norm) {
  auto& x = tensorArg(info, 0, "x");
  double p = numArg(info, 1, "p");
  at::OptionalIntArrayRef dims = c10::nullopt;
  std::vector<int64_t> d;
  if (!info[2].IsNull() && !info[2].IsUndefined()) { d = intListArg(info, 2, "dims"); dims = d; }
  return wrap(info.Env(), at::linalg_vector_norm(x, p, dims, boolArg(info, 3, "keepdim")));
}

LT_FN(dot) { return wrap(info.Env(), at::dot(tensorArg(info, 0, "a"), tensorArg(info, 1, "b"))); }
LT_FN(matmul) { return wrap(info.Env(), at::matmul(tensorArg(info, 0, "a"), tensorArg(info, 1, "b"))); }
LT_FN(cat) { return wrap(info.Env(), at::cat(tensorListArg(info, 0, "tensors"), intArg(info, 1, "dim"))); }
LT_FN(stack) { return wrap(info.Env(), at::stack(tensorListArg(info, 0, "tensors"), intArg(info, 1, "dim"))); }
// pad(x, pads, value): pads in PyTorch's order (last dim first: left, right, top, bottom, ...)
LT_FN(pad) { return wrap(info.Env(), at::constant_pad_nd(tensorArg(info, 0, "x"), intListArg(info, 1, "pads"), numArg(info, 2, "value"))); }
LT_FN(linear) { return wrap(info.Env(), at::linear(tensorArg(info, 0, "x"), tensorArg(info, 1, "weight"), optTensorArg(info, 2, "bias"))); }
LT_FN(logSoftmax) { return wrap(info.Env(), at::log_softmax(tensorArg(info, 0, "x"), intArg(info, 1, "dim"))); }
LT_FN(softmax) { return wrap(info.Env(), at::softmax(tensorArg(info, 0, "x"), intArg(info, 1, "dim"))); }

static int64_t reductionOf(const std::string& s) {
  if (s == "mean") return at::Reduction::Mean;
  if (s == "sum") return at::Reduction::Sum;
  if (s == "none") return at::Reduction::None;
  throw ArgError("argument", "reduction must be mean|sum|none, received \"" + s + "\"");
}

// crossEntropy(logits[N,C], targets[N] int64, reduction, labelSmoothing)
LT_FN(crossEntropy) {
  auto& logits = tensorArg(info, 0, "logits");
  auto& targets = tensorArg(info, 1, "targets");
  if (targets.scalar_type() != at::kLong) throw ArgError("dtype", std::string("targets must be int64, received ") + dtypeName(targets.scalar_type()));
  return wrap(info.Env(), at::cross_entropy_loss(logits, targets, {}, reductionOf(strArg(info, 2, "reduction")), -100, numArg(info, 3, "labelSmoothing")));
}
LT_FN(nllLoss) {
  return wrap(info.Env(), at::nll_loss(tensorArg(info, 0, "logProbs"), tensorArg(info, 1, "targets"), {}, reductionOf(strArg(info, 2, "reduction"))));
}
LT_FN(argmax) { return wrap(info.Env(), at::argmax(tensorArg(info, 0, "x"), intArg(info, 1, "dim"), boolArg(info, 2, "keepdim"))); }

// Shape ops: views share storage with their source.
LT_FN(reshape) { return wrap(info.Env(), tensorArg(info, 0, "x").reshape(intListArg(info, 1, "shape"))); }
LT_FN(permute) { return wrap(info.Env(), tensorArg(info, 0, "x").permute(intListArg(info, 1, "dims"))); }
LT_FN(transpose) { return wrap(info.Env(), tensorArg(info, 0, "x").transpose(intArg(info, 1, "dim0"), intArg(info, 2, "dim1"))); }
LT_FN(narrow) { return wrap(info.Env(), tensorArg(info, 0, "x").narrow(intArg(info, 1, "dim"), intArg(info, 2, "start"), intArg(info, 3, "length"))); }
LT_FN(indexSelect) { return wrap(info.Env(), at::index_select(tensorArg(info, 0, "x"), intArg(info, 1, "dim"), tensorArg(info, 2, "index"))); }
LT_FN(flatten) { return wrap(info.Env(), tensorArg(info, 0, "x").flatten(intArg(info, 1, "startDim"), intArg(info, 2, "endDim"))); }
LT_FN(unsqueeze) { return wrap(info.Env(), tensorArg(info, 0, "x").unsqueeze(intArg(info, 1, "dim"))); }
LT_FN(clamp) {
  auto& x = tensorArg(info, 0, "x");
  c10::optional<at::Scalar> lo, hi;
  if (info[1].IsNumber()) lo = numArg(info, 1, "min");
  if (info[2].IsNumber()) hi = numArg(info, 2, "max");
  return wrap(info.Env(), at::clamp(x, lo, hi));
}
LT_FN(where) { return wrap(info.Env(), at::where(tensorArg(info, 0, "condition"), tensorArg(info, 1, "x"), tensorArg(info, 2, "y"))); }

namespace lt {
void registerOpFns(Napi::Env env, Napi::Object exports) {
  Exports fns = {
      {"unary", unary}, {"binary", binary}, {"conv2d", conv2d}, {"batchNorm", batchNorm},
      {"avgPool2d", avgPool2d}, {"maxPool2d", maxPool2d}, {"reduce", reduce}, {"norm", norm}, {"dot", dot},
      {"matmul", matmul}, {"cat", cat}, {"stack", stack}, {"pad", pad}, {"linear", linear},
      {"logSoftmax", logSoftmax}, {"softmax", softmax}, {"crossEntropy", crossEntropy}, {"nllLoss", nllLoss},
      {"argmax", argmax}, {"reshape", reshape}, {"permute", permute}, {"transpose", transpose}, {"narrow", narrow},
      {"indexSelect", indexSelect}, {"flatten", flatten}, {"unsqueeze", unsqueeze}, {"clamp", clamp}, {"where", where},
  };
  for (auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
}
}  // namespace lt
