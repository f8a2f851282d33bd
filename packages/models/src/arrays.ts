/**
 * Element `i` of an array or typed array whose index the caller's loop keeps in range. A read
 * past the end is a bug, so it throws at once instead of turning into NaN pixels downstream.
 */
export function at<T>(a: ArrayLike<T>, i: number): T {
  const v = a[i];
  if (v === undefined) throw new RangeError(`index ${i} is outside 0–${a.length - 1}`);
  return v;
}
