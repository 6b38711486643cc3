/**
 * Wraps `compute` so that a call with the same argument (the same object) as the call just before
 * returns that call's result instead of computing it again. The event bus hands one committed entry
 * to all the streams of its session one after another, so this encodes it once for all of them,
 * with no cache to grow or to clean up.
 */
export function reuseLastResult<A extends object, R>(compute: (arg: A) => R): (arg: A) => R {
  let last: { arg: A; result: R } | undefined;
  return (arg) => {
    if (last?.arg !== arg) last = { arg, result: compute(arg) };
    return last.result;
  };
}
