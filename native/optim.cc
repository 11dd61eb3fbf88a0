// Optimizers in C++ so a step is one call from JS. LR, momentum and weight decay are arguments of
// every step (schedules drive them each iteration); parameter groups carry Caffe's lr_mult and
// decay_mult. Update rules:
//   sgd, form "caffe":   v = m*v + lr*(g + wd*w);  w -= v            (Caffe SGDSolver)
//   sgd, form "pytorch": v = m*v + (g + wd*w);     w -= lr*v         (torch.optim.SGD, dampening 0)
//   nesterov caffe:      v' = m*v + lr*d;          w -= (1+m)*v' - m*v
//   nesterov pytorch:    v = m*v + d;              w -= lr*(d + m*v)
//   adam/adagrad/adadelta: torch.optim semantics with L2 weight decay added to the gradient;
//   for adam, `momentum` is beta1 (as OneCycleLR cycles it).
#include "common.h"
#include <torch/csrc/autograd/grad_mode.h>
#include <cmath>

namespace {
struct Param {
  at::Tensor w;
  int group = 0;
  std::vector<at::Tensor> slots;
};
struct Group {
  double lrMult = 1, decayMult = 1;
};
struct Optimizer {
  std::string kind;
  bool caffe = true;
  bool nesterov = false;
  double beta2 = 0.999, eps = 1e-8, rho = 0.9, initAcc = 0;
  std::vector<Param> params;
  std::vector<Group> groups;
  int64_t steps = 0;
  std::vector<std::string> slotNames;
};

Optimizer& optOf(const Napi::Value& v) {
  if (!v.IsExternal()) throw lt::ArgError("argument", "argument 0 (optimizer) must be an optimizer handle");
  return *v.As<Napi::External<Optimizer>>().Data();
}

double getNum(const Napi::Object& o, const char* key, double dflt) {
  auto v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return dflt;
  if (!v.IsNumber()) throw lt::ArgError("argument", std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
}  // namespace

using namespace lt;

// optimizerCreate(kind, params[], groupOf[], groups[{lrMult, decayMult}], options{form, nesterov, beta2, eps, rho, initialAccumulator})
LT_FN(optimizerCreate) {
  auto* o = new Optimizer();
  std::unique_ptr<Optimizer> guard(o);
  o->kind = strArg(info, 0, "kind");
  auto ps = tensorListArg(info, 1, "params");
  auto groupOf = intListArg(info, 2, "groupOf");
  if (groupOf.size() != ps.size()) throw ArgError("argument", "groupOf must have one entry per parameter");
  if (!info[3].IsArray()) throw ArgError("argument", "argument 3 (groups) must be an array");
  auto gs = info[3].As<Napi::Array>();
  for (uint32_t i = 0; i < gs.Length(); i++) {
    auto g = gs.Get(i).As<Napi::Object>();
    o->groups.push_back(Group{getNum(g, "lrMult", 1), getNum(g, "decayMult", 1)});
  }
  if (!info[4].IsObject()) throw ArgError("argument", "argument 4 (options) must be an object");
  auto opts = info[4].As<Napi::Object>();
  auto form = opts.Get("form");
  std::string f = form.IsString() ? form.As<Napi::String>().Utf8Value() : "caffe";
  if (f != "caffe" && f != "pytorch") throw ArgError("argument", "momentum form must be caffe|pytorch, received \"" + f + "\"");
  o->caffe = f == "caffe";
  auto nest = opts.Get("nesterov");
  o->nesterov = nest.IsBoolean() && nest.As<Napi::Boolean>().Value();
  if (o->kind == "sgd") o->slotNames = {"momentum_buffer"};
  else if (o->kind == "adam") { o->slotNames = {"exp_avg", "exp_avg_sq"}; o->eps = 1e-8; }
  else if (o->kind == "adagrad") { o->slotNames = {"sum"}; o->eps = 1e-10; }
  else if (o->kind == "adadelta") { o->slotNames = {"square_avg", "acc_delta"}; o->eps = 1e-6; }
  else throw ArgError("argument", "unknown optimizer \"" + o->kind + "\" (sgd|adam|adagrad|adadelta; nesterov is sgd with nesterov: true)");
  o->beta2 = getNum(opts, "beta2", o->beta2);
  o->eps = getNum(opts, "eps", o->eps);
  o->rho = getNum(opts, "rho", o->rho);
  o->initAcc = getNum(opts, "initialAccumulator", 0);
  for (size_t i = 0; i < ps.size(); i++) {
    if (groupOf[i] < 0 || groupOf[i] >= static_cast<int64_t>(o->groups.size())) throw ArgError("argument", "groupOf[" + std::to_string(i) + "] names no group");
    if (!ps[i].is_floating_point()) throw ArgError("dtype", "parameter " + std::to_string(i) + " is not a floating-point tensor");
    o->params.push_back(Param{ps[i], static_cast<int>(groupOf[i]), {}});
  }
  guard.release();
  return Napi::External<Optimizer>::New(info.Env(), o, [](Napi::Env, Optimizer* o) { delete o; });
}

static void ensureSlots(Optimizer& o, Param& p) {
  if (!p.slots.empty()) return;
  for (size_t k = 0; k < o.slotNames.size(); k++) {
    auto z = at::zeros_like(p.w, at::MemoryFormat::Preserve);
    if (o.kind == "adagrad" && o.initAcc != 0) z.fill_(o.initAcc);
    p.slots.push_back(z);
  }
}

// optimizerStep(opt, lr, momentum, weightDecay, clipGradients) -> global gradient L2 norm (before
// clipping) when clipGradients > 0, else -1. Parameters without a gradient are skipped.
LT_FN(optimizerStep) {
  auto& o = optOf(info[0]);
  double lr = numArg(info, 1, "lr");
  double m = numArg(info, 2, "momentum");
  double wd = numArg(info, 3, "weightDecay");
  double clip = numArg(info, 4, "clipGradients");
  if (!std::isfinite(lr) || !std::isfinite(m) || !std::isfinite(wd)) throw ArgError("argument", "lr, momentum and weight decay must be finite numbers");
  at::NoGradGuard ng;
  double scale = 1, gnorm = -1;
  if (clip > 0) {
    // Caffe's ClipGradients: scale every gradient by clip/||g|| when the global norm exceeds clip.
    double sq = 0;
    for (auto& p : o.params) {
      auto& g = p.w.grad();
      if (g.defined()) sq += g.pow(2).sum().item<double>();
    }
    gnorm = std::sqrt(sq);
    if (gnorm > clip) scale = clip / gnorm;
  }
  o.steps += 1;
  const double t = static_cast<double>(o.steps);
  for (auto& p : o.params) {
    auto& g0 = p.w.grad();
    if (!g0.defined()) continue;
    ensureSlots(o, p);
    const auto& grp = o.groups[p.group];
    const double plr = lr * grp.lrMult, pwd = wd * grp.decayMult;
    at::Tensor d = scale != 1 ? g0.mul(scale) : g0;
    if (pwd != 0) d = d.add(p.w, pwd);
    if (o.kind == "sgd") {
      auto& v = p.slots[0];
      if (o.caffe) {
        if (o.nesterov) {
          auto vprev = v.clone();
          v.mul_(m).add_(d, plr);
          p.w.sub_(v, 1 + m).add_(vprev, m);
        } else {
          v.mul_(m).add_(d, plr);
          p.w.sub_(v);
        }
      } else {
        v.mul_(m).add_(d);
        if (o.nesterov) p.w.sub_(d.add(v, m), plr);
        else p.w.sub_(v, plr);
      }
    } else if (o.kind == "adam") {
      auto& ea = p.slots[0];
      auto& eas = p.slots[1];
      ea.mul_(m).add_(d, 1 - m);
      eas.mul_(o.beta2).addcmul_(d, d, 1 - o.beta2);
      double bc1 = 1 - std::pow(m, t), bc2 = 1 - std::pow(o.beta2, t);
      auto denom = eas.sqrt().div_(std::sqrt(bc2)).add_(o.eps);
      p.w.addcdiv_(ea, denom, -plr / bc1);
    } else if (o.kind == "adagrad") {
      auto& s = p.slots[0];
      s.addcmul_(d, d, 1);
      p.w.addcdiv_(d, s.sqrt().add_(o.eps), -plr);
    } else if (o.kind == "adadelta") {
      auto& sqa = p.slots[0];
      auto& acc = p.slots[1];
      sqa.mul_(o.rho).addcmul_(d, d, 1 - o.rho);
      auto stdv = sqa.add(o.eps).sqrt_();
      auto delta = acc.add(o.eps).sqrt_().div_(stdv).mul_(d);
      acc.mul_(o.rho).addcmul_(delta, delta, 1 - o.rho);
      p.w.add_(delta, -plr);
    }
  }
  return Napi::Number::New(info.Env(), gnorm);
}

// optimizerZeroGrad(opt): drops every gradient (set to none, as PyTorch's set_to_none).
LT_FN(optimizerZeroGrad) {
  auto& o = optOf(info[0]);
  for (auto& p : o.params) p.w.mutable_grad().reset();
  return info.Env().Undefined();
}

// optimizerGetState(opt) -> {steps, slotNames, slots: tensor[][] (per parameter; empty before the
// first step)}. The tensors alias the live state: callers copy what they keep.
LT_FN(optimizerGetState) {
  auto& o = optOf(info[0]);
  Napi::Env env = info.Env();
  auto res = Napi::Object::New(env);
  res.Set("steps", Napi::Number::New(env, static_cast<double>(o.steps)));
  auto names = Napi::Array::New(env, o.slotNames.size());
  for (size_t i = 0; i < o.slotNames.size(); i++) names.Set(static_cast<uint32_t>(i), Napi::String::New(env, o.slotNames[i]));
  res.Set("slotNames", names);
  auto slots = Napi::Array::New(env, o.params.size());
  for (size_t i = 0; i < o.params.size(); i++) slots.Set(static_cast<uint32_t>(i), wrapList(env, o.params[i].slots));
  res.Set("slots", slots);
  return res;
}

// optimizerSetState(opt, steps, slots: (tensor[] | [])[]): copies values in (shapes must match).
LT_FN(optimizerSetState) {
  auto& o = optOf(info[0]);
  int64_t steps = intArg(info, 1, "steps");
  if (!info[2].IsArray()) throw ArgError("argument", "argument 2 (slots) must be an array");
  auto arr = info[2].As<Napi::Array>();
  if (arr.Length() != o.params.size())
    throw ArgError("state", "optimizer state has " + std::to_string(arr.Length()) + " parameters, this optimizer has " + std::to_string(o.params.size()));
  at::NoGradGuard ng;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto list = arr.Get(i).As<Napi::Array>();
    auto& p = o.params[i];
    if (list.Length() == 0) { p.slots.clear(); continue; }
    if (list.Length() != o.slotNames.size()) throw ArgError("state", "parameter " + std::to_string(i) + " has the wrong number of state slots");
    ensureSlots(o, p);
    for (uint32_t k = 0; k < list.Length(); k++) {
      auto v = list.Get(k);
      if (!v.IsExternal()) throw ArgError("state", "state slot must be a tensor");
      auto* h = v.As<Napi::External<Handle>>().Data();
      if (h->disposed) throw ArgError("disposed", "state slot is a disposed tensor");
      if (!h->t.sizes().equals(p.slots[k].sizes())) throw ArgError("state", "state slot " + o.slotNames[k] + " of parameter " + std::to_string(i) + " has the wrong shape");
      p.slots[k].copy_(h->t);
    }
  }
  o.steps = steps;
  return info.Env().Undefined();
}

namespace lt {
void registerOptimFns(Napi::Env env, Napi::Object exports) {
  Exports fns = {{"optimizerCreate", optimizerCreate}, {"optimizerStep", optimizerStep}, {"optimizerZeroGrad", optimizerZeroGrad},
                 {"optimizerGetState", optimizerGetState}, {"optimizerSetState", optimizerSetState}};
  for (auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
}
}  // namespace lt
