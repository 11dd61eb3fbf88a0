/**
 * Module: a tree of named parameters, buffers and children whose dotted names follow PyTorch's
 * state_dict convention (`layer1.0.conv1.weight`, `bn1.running_mean`), so checkpoints interoperate.
 * Parameters and buffers are owned by the module (kept out of tidy scopes) until `dispose()`.
 */
import { noGrad } from './autograd.js';
import { EngineError } from './native.js';
import { Tensor, keep, type MemoryFormat } from './tensor.js';

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  private static checkName(name: string): void {
    if (!name || name.includes('.')) throw new EngineError('argument', 'Module', name, `module member name must be non-empty and contain no '.', received ${JSON.stringify(name)}`);
  }

  /** Registers a trainable parameter (requires grad) under `name`. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    Module.checkName(name);
    keep(t).setRequiresGrad(true);
    this._params.set(name, t);
    return t;
  }
  protected registerBuffer(name: string, t: Tensor): Tensor {
    Module.checkName(name);
    this._buffers.set(name, keep(t));
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    Module.checkName(name);
    this._children.set(name, m);
    return m;
  }

  children(): [string, Module][] { return [...this._children]; }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this._children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  /** Parameters in PyTorch's order: a module's own, then each child's, depth first. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules()) for (const [n, t] of m._params) out.push([p ? `${p}.${n}` : n, t]);
    return out;
  }
  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules()) for (const [n, t] of m._buffers) out.push([p ? `${p}.${n}` : n, t]);
    return out;
  }
  /** Parameters then buffers per module, as PyTorch's state_dict orders them. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [p, m] of this.namedModules()) {
      for (const [n, t] of m._params) out.set(p ? `${p}.${n}` : n, t);
      for (const [n, t] of m._buffers) out.set(p ? `${p}.${n}` : n, t);
    }
    return out;
  }

  /**
   * Copies values in (under noGrad, shapes checked before anything changes). Returns the names
   * missing from `state` and the unexpected ones; with `strict` either is an error.
   */
  loadStateDict(state: Map<string, Tensor>, o: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if ((o.strict ?? true) && (missing.length || unexpected.length))
      throw new EngineError('state', 'loadStateDict', '', `state dict does not match the model: missing [${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}], unexpected [${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ', ...' : ''}]`);
    for (const [k, t] of own) {
      const src = state.get(k);
      if (src && src.shape.join(',') !== t.shape.join(','))
        throw new EngineError('state', 'loadStateDict', k, `${k}: expected shape [${t.shape.join(', ')}], received [${src.shape.join(', ')}]`);
    }
    noGrad(() => { for (const [k, t] of own) { const src = state.get(k); if (src) t.copy_(src); } });
    return { missing, unexpected };
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }
  eval(): this { return this.train(false); }

  numParameters(): number { return this.parameters().reduce((a, t) => a + t.size, 0); }

  /** All parameters (in namedParameters order) in one Float64Array. */
  flatParameters(): Float64Array {
    const ps = this.parameters();
    const out = new Float64Array(ps.reduce((a, t) => a + t.size, 0));
    let o = 0;
    for (const t of ps) { const d = t.data() as Float32Array | Float64Array; out.set(d, o); o += d.length; }
    return out;
  }
  /** Writes a flat vector (as from flatParameters) back into the parameters. */
  setFlatParameters(flat: Float64Array): void {
    const ps = this.parameters();
    const n = ps.reduce((a, t) => a + t.size, 0);
    if (flat.length !== n) throw new EngineError('argument', 'setFlatParameters', '', `expected ${n} values, received ${flat.length}`);
    let o = 0;
    noGrad(() => {
      for (const p of ps) {
        const chunk = flat.subarray(o, o + p.size);
        const src = Tensor.fromData(p.dtype === 'float64' ? Float64Array.from(chunk) : Float32Array.from(chunk), p.shape);
        p.copy_(src);
        src.dispose();
        o += p.size;
      }
    });
  }

  /** Converts 4-D parameters to a memory format in place (channels-last speeds up oneDNN convolutions). */
  toMemoryFormat(format: MemoryFormat): this {
    for (const [, m] of this.namedModules()) {
      for (const [n, t] of m._params) {
        if (t.rank !== 4 || t.isContiguous(format)) continue;
        const c = noGrad(() => t.contiguous(format));
        keep(c).setRequiresGrad(true);
        m._params.set(n, c);
        t.dispose();
        m.onParameterReplaced(n, c);
      }
    }
    return this;
  }
  /** Called when a parameter tensor is replaced; modules caching a reference update it here. */
  protected onParameterReplaced(_name: string, _t: Tensor): void {}
  protected param(name: string): Tensor { return this._params.get(name)!; }
  protected buffer(name: string): Tensor { return this._buffers.get(name)!; }

  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m._params.values()) t.dispose();
      for (const t of m._buffers.values()) t.dispose();
      m._params.clear();
      m._buffers.clear();
    }
  }
}
