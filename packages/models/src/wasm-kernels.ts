/**
 * Training kernels for @tensorflow/tfjs-backend-wasm, built from the convolutions it already runs
 * fast (XNNPACK). Issue #3: as shipped, the wasm backend cannot train a convnet (no
 * Conv2DBackpropFilter) and its Conv2DBackpropInput — the generator's transposed convolutions and
 * every conv's input gradient — is ~10× slower than its forward convolution.
 *
 * - Conv2DBackpropFilter: dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·s + kh − pad, ow·s + kw − pad, ci] · dy[b, oh, ow, co]
 *   is itself a stride-1 convolution with dilation s, of x transposed to [ci, H, W, B] with dy
 *   transposed to a filter [OH, OW, B, co]; its output [ci, KH, KW, co] is transposed back.
 * - Conv2DBackpropInput (a transposed convolution) with stride s splits into s² stride-1
 *   convolutions, one per output phase (y mod s, x mod s), each using only the filter taps that
 *   land on that phase, so no zeros are multiplied (the sub-pixel view of Shi et al. 2016,
 *   arXiv:1609.05158 / Dumoulin & Visin 2016, arXiv:1603.07285 §4). Their outputs, concatenated
 *   on channels, interleave with DepthToSpace.
 *
 * Only tfjs-core APIs are used: the kernels call the wasm backend's own kernels through
 * getKernel, so this module runs wherever the wasm backend does (Node, browsers, Deno).
 */
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type DataId,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

const BACKEND = 'wasm';

interface WasmLikeBackend {
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** Calls wasm kernels by name and frees every intermediate it made, except what it returns. */
class KernelScope {
  private readonly made: TensorInfo[] = [];
  constructor(private readonly backend: WasmLikeBackend) {}

  run(name: string, inputs: TensorInfo | TensorInfo[] | Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, BACKEND);
    if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
    const wrapped = Array.isArray(inputs) || 'dataId' in inputs ? (Array.isArray(inputs) ? inputs : { x: inputs as TensorInfo }) : inputs;
    const out = kernel.kernelFunc({ inputs: wrapped as never, backend: this.backend as never, attrs }) as TensorInfo;
    this.made.push(out);
    return out;
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

function withScope(backend: unknown, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend as WasmLikeBackend);
  try {
    return scope.finish(body(scope));
  } catch (err) {
    scope.fail();
    throw err;
  }
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** x [B, H, W, ci], dy [B, OH, OW, co] → dW [KH, KW, ci, co]. */
const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as BackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const [, H, W] = x.shape as [number, number, number, number];
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // The dilated conv must produce exactly KH × KW outputs; rows the forward conv never read are cropped.
  let bottom = kh + (oh - 1) * sh - H - top;
  let right = kw + (ow - 1) * sw - W - left;
  return withScope(backend, (s) => {
    let input = x;
    if (bottom < 0 || right < 0) {
      const [B, , , C] = x.shape as [number, number, number, number];
      input = s.run('Slice', x, { begin: [0, 0, 0, 0], size: [B, H + Math.min(0, bottom), W + Math.min(0, right), C] });
      bottom = Math.max(0, bottom);
      right = Math.max(0, right);
    }
    const xt = s.run('Transpose', input, { perm: [3, 1, 2, 0] }); // → [ci, H, W, B]
    const dyt = s.run('Transpose', dy, { perm: [1, 2, 0, 3] }); // → [OH, OW, B, co]
    const dw = s.run(
      'Conv2D',
      { x: xt, filter: dyt },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [sh, sw],
        dimRoundingMode: undefined as never,
      },
    ); // → [ci, KH, KW, co]
    return s.run('Transpose', dw, { perm: [1, 2, 0, 3] }); // → [KH, KW, ci, co]
  });
};

interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

let originalBackpropInput: KernelConfig | undefined;
/** Backends on which the stock kernel's setup (its cwrap of the C++ entry point) has run. */
const stockReady = new WeakSet<object>();

function stockBackpropInput(args: Parameters<KernelFunc>[0]): ReturnType<KernelFunc> {
  if (!originalBackpropInput) throw new Error('the stock wasm Conv2DBackpropInput kernel is missing');
  // Unregistered before the backend initialised, so the engine never ran its setup.
  if (!stockReady.has(args.backend)) {
    originalBackpropInput.setupFunc?.(args.backend);
    stockReady.add(args.backend);
  }
  return originalBackpropInput.kernelFunc(args);
}

/** dy [B, OH, OW, co], filter [KH, KW, ci, co] → dx [B, H, W, ci]. */
const conv2dBackpropInput: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as BackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: s, strideWidth: sw, filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW } = info;
  const [B, H, W, ci] = inputShape;
  const co = filter.shape[3]!;
  // The phase split needs square strides and output sides that are multiples of the stride
  // (true of every 'same'-padded stride-2 layer here); anything else keeps the stock kernel.
  if (dataFormat === 'NCHW' || s !== sw || H % s !== 0 || W % s !== 0) return stockBackpropInput(args);
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const J = Math.ceil(KH / s);
  const JW = Math.ceil(KW / s);
  return withScope(backend, (sc) => {
    // Filter taps per phase: pad KH, KW up to J·s (extra taps are zero), split kh = j·s + r.
    let f = filter;
    if (J * s !== KH || JW * s !== KW) {
      f = sc.run('PadV2', filter, {
        paddings: [
          [0, J * s - KH],
          [0, JW * s - KW],
          [0, 0],
          [0, 0],
        ],
        constantValue: 0,
      });
    }
    f = sc.run('Reshape', f, { shape: [J, s, JW, s, ci, co] });
    // Tap j of phase r multiplies dy[q − j]; as a correlation the taps run backwards.
    f = sc.run('Reverse', f, { dims: [0, 2] });
    f = sc.run('Transpose', f, { perm: [1, 3, 0, 2, 5, 4] }); // → [r_y, r_x, J, JW, co, ci]
    const phases: TensorInfo[] = [];
    const Hs = H / s;
    const Ws = W / s;
    for (let py = 0; py < s; py++) {
      for (let px = 0; px < s; px++) {
        // Output row y = u·s + py reads filter phase r = (py + pt) mod s at dy rows u + c − j.
        const ry = (py + pt) % s;
        const rx = (px + pl) % s;
        const cy = Math.floor((py + pt) / s);
        const cx = Math.floor((px + pl) / s);
        let padTop = J - 1 - cy;
        let padBottom = Hs - 1 + cy - (OH - 1);
        let padLeft = JW - 1 - cx;
        let padRight = Ws - 1 + cx - (OW - 1);
        let src = dy;
        if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
          const y0 = Math.max(0, -padTop);
          const x0 = Math.max(0, -padLeft);
          src = sc.run('Slice', dy, {
            begin: [0, y0, x0, 0],
            size: [B, OH - y0 - Math.max(0, -padBottom), OW - x0 - Math.max(0, -padRight), co],
          });
          [padTop, padBottom, padLeft, padRight] = [padTop, padBottom, padLeft, padRight].map((p) => Math.max(0, p)) as [
            number,
            number,
            number,
            number,
          ];
        }
        const tap = sc.run('Slice', f, { begin: [ry, rx, 0, 0, 0, 0], size: [1, 1, J, JW, co, ci] });
        const phaseFilter = sc.run('Reshape', tap, { shape: [J, JW, co, ci] });
        phases.push(
          sc.run(
            'Conv2D',
            { x: src, filter: phaseFilter },
            {
              strides: [1, 1],
              pad: [
                [0, 0],
                [padTop, padBottom],
                [padLeft, padRight],
                [0, 0],
              ],
              dataFormat: 'NHWC',
              dilations: [1, 1],
              dimRoundingMode: undefined as never,
            },
          ), // → [B, H/s, W/s, ci]
        );
      }
    }
    if (s === 1) return phases[0]!;
    const stacked = sc.run('Concat', phases, { axis: 3 }); // → [B, H/s, W/s, s²·ci], phase-major
    return sc.run('DepthToSpace', stacked, { blockSize: s, dataFormat: 'NHWC' }); // → [B, H, W, ci]
  });
};

let registered = false;

/**
 * Registers the two kernels on the wasm backend. Call after importing @tensorflow/tfjs-backend-wasm
 * (which registers its own kernels at import) and before training; calling again is a no-op.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  originalBackpropInput = getKernel('Conv2DBackpropInput', BACKEND);
  if (!originalBackpropInput || !getKernel('Conv2D', BACKEND)) {
    throw new Error('import @tensorflow/tfjs-backend-wasm before registering its training kernels');
  }
  if (getKernel('Conv2DBackpropFilter', BACKEND)) unregisterKernel('Conv2DBackpropFilter', BACKEND);
  registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2dBackpropFilter });
  unregisterKernel('Conv2DBackpropInput', BACKEND);
  registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2dBackpropInput });
  registered = true;
}
