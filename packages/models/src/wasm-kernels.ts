/**
 * Training kernels for @tensorflow/tfjs-backend-wasm, built from the convolutions it already runs
 * fast (XNNPACK). As shipped, the wasm backend cannot train a convnet (no
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
 * getKernel, so this module runs wherever the wasm backend does (Node, browsers, Deno). Inference
 * uses them too: with cacheWasmPhaseFilters the server render's transposed convs run ~7× the stock
 * kernel at batch 1 (packages/api/bench/render.ts).
 */
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { BACKEND, stock, stockKernels, withScope, type WasmLikeBackend } from './wasm-scope';

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
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as BackpropFilterAttrs;
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
  const {
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    outHeight: oh,
    outWidth: ow,
  } = info;
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
      input = s.run('Slice', x, {
        begin: [0, 0, 0, 0],
        size: [B, H + Math.min(0, bottom), W + Math.min(0, right), C],
      });
      bottom = Math.max(0, bottom);
      right = Math.max(0, right);
    }
    const xt = s.run('Transpose', input, { perm: [3, 1, 2, 0] }); // → [ci, H, W, B]
    const dyt = s.run('Transpose', dy, { perm: [1, 2, 0, 3] }); // → [OH, OW, B, co]
    const dw = s.conv(xt, dyt, [top, bottom], [left, right], [sh, sw]); // → [ci, KH, KW, co]
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

/**
 * Phase filters by filter tensor (its dataId) and phase layout, for processes that only run
 * inference (the gallery's server render): there the same layer weights come back for every image,
 * and a phase filter that persists keeps the wasm Conv2D's packed XNNPACK operator too — at batch 1,
 * gathering and repacking fresh ones cost more than the convolutions. They live on the wasm heap,
 * freed by a FinalizationRegistry once the filter tensor is collected. Training never turns this
 * on: its filters change every step.
 */
let phaseCache: WeakMap<object, { layout: string; phases: TensorInfo[] }> | undefined;

/** Frees a cached phase filter's heap memory once its source filter tensor is collected. */
const heldPhases = new FinalizationRegistry<{ backend: WasmLikeBackend; t: TensorInfo }>(
  ({ backend, t }) => backend.disposeData(t.dataId),
);

/** Keeps each constant filter's phase split after its first use (inference-only processes). */
export function cacheWasmPhaseFilters(): void {
  phaseCache ??= new WeakMap();
}

/** dy [B, OH, OW, co], filter [KH, KW, ci, co] → dx [B, H, W, ci]. */
const conv2dBackpropInput: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    attrs as unknown as BackpropInputAttrs;
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
  const {
    strideHeight: s,
    strideWidth: sw,
    filterHeight: KH,
    filterWidth: KW,
    outHeight: OH,
    outWidth: OW,
  } = info;
  const [B, H, W, ci] = inputShape;
  const co = filter.shape[3]!;
  // The phase split needs square strides and output sides that are multiples of the stride
  // (true of every 'same'-padded stride-2 layer here); anything else keeps the stock kernel.
  if (dataFormat === 'NCHW' || s !== sw || H % s !== 0 || W % s !== 0)
    return stock('Conv2DBackpropInput', args);
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const J = Math.ceil(KH / s);
  const JW = Math.ceil(KW / s);
  const layout = `${s},${pt},${pl},${KH},${KW}`;
  let cached = phaseCache?.get(filter.dataId);
  if (phaseCache && cached?.layout !== layout) {
    cached = { layout, phases: [] };
    phaseCache.set(filter.dataId, cached);
  }
  return withScope(backend, (sc) => {
    const Hs = H / s;
    const Ws = W / s;
    const phases: TensorInfo[] = [];
    for (let py = 0; py < s; py++) {
      for (let px = 0; px < s; px++) {
        // Output row y = u·s + py reads taps kh = r + j·s, r = (py + pt) mod s, at dy rows u + c − j.
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
          [padTop, padBottom, padLeft, padRight] = [padTop, padBottom, padLeft, padRight].map((p) =>
            Math.max(0, p),
          ) as [number, number, number, number];
        }
        // Gathered in JS: the wasm backend's 6-D Transpose and Reverse run at ~70 ns an element,
        // slower than the convolution they would feed.
        // Cached phase filters stay on the heap: the wasm Conv2D keeps its packed XNNPACK operator
        // per filter tensor, so a filter seen before skips the repacking too.
        const k = py * s + px;
        let phaseFilter = cached?.phases[k];
        if (!phaseFilter) {
          phaseFilter = cached
            ? (backend as WasmLikeBackend).makeOutput([J, JW, co, ci], 'float32')
            : sc.alloc([J, JW, co, ci]);
          if (cached) {
            cached.phases[k] = phaseFilter;
            heldPhases.register(filter.dataId, {
              backend: backend as WasmLikeBackend,
              t: phaseFilter,
            });
          }
          const fv = sc.view(phaseFilter);
          const wv = sc.view(filter);
          fv.fill(0);
          for (let my = 0; my < J; my++) {
            // Correlation runs the taps backwards: tap m multiplies dy[u + c − (J − 1) + m], i.e. j = J − 1 − m.
            const kh = ry + (J - 1 - my) * s;
            if (kh >= KH) continue;
            for (let mx = 0; mx < JW; mx++) {
              const kw = rx + (JW - 1 - mx) * s;
              if (kw >= KW) continue;
              const dst = (my * JW + mx) * co * ci;
              const srcBase = (kh * KW + kw) * ci * co;
              for (let c = 0; c < ci; c++) {
                const row = srcBase + c * co;
                for (let o = 0; o < co; o++) fv[dst + o * ci + c] = wv[row + o]!;
              }
            }
          }
        }
        phases.push(
          sc.conv(src, phaseFilter, [padTop, padBottom], [padLeft, padRight]), // → [B, H/s, W/s, ci]
        );
      }
    }
    if (s === 1) return phases[0]!;
    // Interleave the phases (a DepthToSpace); rows of ci floats are contiguous, so copy rows.
    const out = sc.alloc([B, H, W, ci]);
    const ov = sc.view(out);
    phases.forEach((phase, k) => {
      const py = Math.floor(k / s);
      const px = k % s;
      const pv = sc.view(phase);
      for (let b = 0; b < B; b++) {
        for (let u = 0; u < Hs; u++) {
          for (let v = 0; v < Ws; v++) {
            const from = ((b * Hs + u) * Ws + v) * ci;
            ov.set(pv.subarray(from, from + ci), ((b * H + u * s + py) * W + v * s + px) * ci);
          }
        }
      }
    });
    return out;
  });
};

/**
 * BatchMatMul / _FusedMatMul with a transposed operand run ~30× slower on wasm than on explicitly
 * transposed inputs (measured: x^T·dy for the generator's projection, [100, 64]·[64, 8192], 150 ms
 * vs 5 ms). The dense layers' weight and input gradients are exactly those products.
 */
function untransposedMatMul(name: 'BatchMatMul' | '_FusedMatMul'): KernelFunc {
  return (args) => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return stock(name, args);
    return withScope(args.backend, (sc) => {
      const inputs = { ...(args.inputs as Record<string, TensorInfo>) };
      const swapLast = (t: TensorInfo) =>
        sc.run('Transpose', t, {
          perm: [...t.shape.keys()].map((i, _, a) => (i < a.length - 2 ? i : 2 * a.length - 3 - i)),
        });
      if (attrs.transposeA) inputs['a'] = swapLast(inputs['a']!);
      if (attrs.transposeB) inputs['b'] = swapLast(inputs['b']!);
      return stock(name, {
        ...args,
        inputs,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    });
  };
}

/**
 * Tile whose input is one block repeated (every tiled axis has size 1 in the input): batch norm's
 * gradient tiles 1/σ of shape [1, 1, 1, C] to [B, H, W, 1] (tfjs-core FusedBatchNorm_grad), which
 * the stock wasm kernel does at ~25 ns an element; a doubling copyWithin does it at memory speed.
 */
const tile: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  const { reps } = args.attrs as { reps: number[] };
  const blockAxis = reps.findIndex((r) => r !== 1);
  const repeatsWholeBlock =
    blockAxis >= 0 &&
    x.dtype === 'float32' &&
    reps.every((r, i) => r === 1 || x.shape.slice(0, i + 1).every((d) => d === 1));
  if (!repeatsWholeBlock) return stock('Tile', args);
  return withScope(args.backend, (sc) => {
    const out = sc.alloc(x.shape.map((d, i) => d * reps[i]!));
    const ov = sc.view(out);
    const block = sc.view(x);
    ov.set(block);
    for (let filled = block.length; filled < ov.length; filled *= 2)
      ov.copyWithin(filled, 0, Math.min(filled, ov.length - filled));
    return out;
  });
};

/**
 * UnsortedSegmentSum, which the stock wasm backend lacks: the gradient of a gather (tfjs-core's
 * GatherV2 grad), so of every embedding lookup. out[s, …] = Σ_{i: ids[i] = s} x[i, …]; x
 * [n, …inner] float32, ids [n] int32 → [numSegments, …inner]. Ids outside [0, numSegments) add
 * nothing, as in TensorFlow.
 */
const unsortedSegmentSum: KernelFunc = (args) => {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as { numSegments: number };
  if (x.dtype !== 'float32' || segmentIds.shape.length !== 1)
    throw new Error('UnsortedSegmentSum on wasm takes float32 values and 1-d segment ids');
  const rows = segmentIds.shape[0]!;
  const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
  return withScope(args.backend, (sc) => {
    const out = sc.alloc([numSegments, ...x.shape.slice(1)]);
    const backend = args.backend as unknown as WasmLikeBackend;
    const ov = sc.view(out);
    const xv = sc.view(x);
    const ids = backend.typedArrayFromHeap(segmentIds) as unknown as ArrayLike<number>;
    ov.fill(0);
    for (let i = 0; i < rows; i++) {
      const s = ids[i]!;
      if (!(s >= 0 && s < numSegments)) continue;
      const src = i * inner;
      const dst = s * inner;
      for (let j = 0; j < inner; j++) ov[dst + j] = ov[dst + j]! + xv[src + j]!;
    }
    return out;
  });
};

const OVERRIDES: { name: string; kernelFunc: KernelFunc; wraps: boolean }[] = [
  { name: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilter, wraps: false },
  { name: 'Conv2DBackpropInput', kernelFunc: conv2dBackpropInput, wraps: true },
  { name: 'BatchMatMul', kernelFunc: untransposedMatMul('BatchMatMul'), wraps: true },
  { name: '_FusedMatMul', kernelFunc: untransposedMatMul('_FusedMatMul'), wraps: true },
  { name: 'Tile', kernelFunc: tile, wraps: true },
  { name: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum, wraps: false },
];

let registered = false;

/**
 * Registers this project's convolution kernels on the wasm backend: the training gradients the
 * stock backend lacks or runs slowly, and the phase-split transposed convolution every generator
 * forward pass (training or sampling) uses. Call after importing @tensorflow/tfjs-backend-wasm
 * (which registers its own kernels at import) and before the backend initialises; calling again
 * is a no-op.
 */
export function registerWasmConvKernels(): void {
  if (registered) return;
  if (!getKernel('Conv2D', BACKEND))
    throw new Error(
      'import @tensorflow/tfjs-backend-wasm before registering its convolution kernels',
    );
  for (const { name, kernelFunc, wraps } of OVERRIDES) {
    const existing = getKernel(name, BACKEND);
    if (wraps) {
      if (!existing) throw new Error(`the wasm backend has no ${name} kernel to wrap`);
      stockKernels.set(name, existing);
    }
    if (existing) unregisterKernel(name, BACKEND);
    registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc });
  }
  registered = true;
}
