// Loaded with `node --import` into a bundle under test: the process's clock is
// SKEWED_CLOCK_MS (positive: ahead) off the machine's, as on a runner whose
// clock is wrong. Only Date moves; timers run at the real rate.
const offset = Number(process.env.SKEWED_CLOCK_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}
globalThis.Date = SkewedDate;
