// Numbers as the public pages show them.
export const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${(100 * x).toFixed(0)}%`;
export const interval = (ci: [number, number] | null | undefined) =>
  ci ? `${pct(ci[0])}–${pct(ci[1])}` : '—';
/** The feature network behind an FID, in words. */
export const featureNetworkName = (id: string | null | undefined) =>
  !id
    ? 'unknown features'
    : id.startsWith('cifar10-classifier')
      ? 'CIFAR-10 classifier features'
      : 'Inception-v3 features';
/** A share (0–1) to one decimal of a percent: precision, recall, copies. */
export const share = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`;
