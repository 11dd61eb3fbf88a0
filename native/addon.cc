// Module entry: registers the flat function table.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  lt::registerTensorFns(env, exports);
  lt::registerOpFns(env, exports);
  lt::registerOptimFns(env, exports);
  return exports;
}

NODE_API_MODULE(losstopo_native, Init)
