/**
 * How the training kernels (./wasm-kernels) call the wasm backend: KernelScope runs its kernels by
 * name and frees every intermediate but the result; `stock` calls a kernel this project replaced,
 * as the backend registered it.
 */
import {
  getKernel,
  type DataId,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

export const BACKEND = 'wasm';

export interface WasmLikeBackend {
  disposeData(dataId: DataId, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  /** A live view of the tensor's bytes in the wasm heap; invalid after the heap grows. */
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** Calls wasm kernels by name and frees every intermediate it made, except what it returns. */
export class KernelScope {
  private readonly made: TensorInfo[] = [];
  constructor(private readonly backend: WasmLikeBackend) {}

  run(
    name: string,
    inputs: TensorInfo | TensorInfo[] | Record<string, TensorInfo>,
    attrs: NamedAttrMap = {},
  ): TensorInfo {
    const kernel = getKernel(name, BACKEND);
    if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
    const wrapped =
      Array.isArray(inputs) || 'dataId' in inputs
        ? Array.isArray(inputs)
          ? inputs
          : { x: inputs as TensorInfo }
        : inputs;
    const out = kernel.kernelFunc({
      inputs: wrapped as never,
      backend: this.backend,
      attrs,
    }) as TensorInfo;
    this.made.push(out);
    return out;
  }

  /** Stride-1 NHWC conv2d with explicit [top, bottom] / [left, right] padding, on the wasm kernel. */
  conv(
    x: TensorInfo,
    filter: TensorInfo,
    [top, bottom]: [number, number],
    [left, right]: [number, number],
    dilations: [number, number] = [1, 1],
  ): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations,
        dimRoundingMode: undefined as never,
      },
    );
  }

  /** A new uninitialised float32 tensor on the wasm heap, freed with the scope unless returned. */
  alloc(shape: number[]): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.made.push(out);
    return out;
  }

  /** Heap views; take them only after the last allocation (a growing heap detaches old views). */
  view(t: TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(t);
  }

  /** Frees intermediates; `keep` survives and belongs to the caller (the engine). */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.made) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }

  fail(): void {
    for (const t of this.made) this.backend.disposeData(t.dataId);
  }
}

export function withScope(backend: unknown, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend as WasmLikeBackend);
  try {
    return scope.finish(body(scope));
  } catch (err) {
    scope.fail();
    throw err;
  }
}

/** The wasm backend's own kernels that this module wraps, kept to delegate to. */
export const stockKernels = new Map<string, KernelConfig>();
/** Backends on which each stock kernel's setup (its cwrap of the C++ entry point) has run. */
const stockReady = new Map<string, WeakSet<object>>();

export function stock(name: string, args: Parameters<KernelFunc>[0]): TensorInfo {
  const config = stockKernels.get(name);
  if (!config) throw new Error(`the stock wasm ${name} kernel is missing`);
  // Unregistered before the backend initialised, so the engine never ran its setup.
  const ready = stockReady.get(name) ?? new WeakSet<object>();
  stockReady.set(name, ready);
  if (!ready.has(args.backend)) {
    config.setupFunc?.(args.backend);
    ready.add(args.backend);
  }
  return config.kernelFunc(args) as TensorInfo;
}
