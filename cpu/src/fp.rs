//! IEEE 754 binary32 and binary64 arithmetic as the RISC-V F and D extensions define it:
//! every result and every exception flag, for every rounding mode.
//!
//! The rounding arithmetic (add, subtract, multiply, divide, fused multiply-add, the
//! conversions) is done by `rustc_apfloat`, the Rust port of LLVM's `APFloat` that rustc
//! and Miri use for constant evaluation, which computes exact results with the status flags
//! of IEEE 754. What RISC-V decides on top of IEEE 754 is here, written from the ISA
//! manual:
//! - a NaN result is always the canonical NaN (`0x7fc00000`, `0x7ff8000000000000`);
//! - a signalling NaN operand raises NV, and so does `0 × ∞` in a fused multiply-add even
//!   when the addend is a quiet NaN;
//! - tininess is detected *after* rounding (as if the exponent range were unbounded):
//!   `APFloat` reports underflow when the result rounded to the format is subnormal or
//!   zero, which misses exactly one case, a result that rounds up to the smallest normal
//!   number from below although it is tiny with an unbounded exponent; `round_tiny` redoes
//!   such an operation in a format with the same precision and a wider exponent range to
//!   decide; it likewise raises OF when a directed rounding gives the largest finite number
//!   (`APFloat` raises it only for an infinite result);
//! - conversions to an integer saturate, with NV and without NX, on NaN and out-of-range
//!   values (the table of the ISA manual's "Single-Precision Floating-Point Conversion"
//!   section); 32-bit results are sign-extended to 64 bits;
//! - `fmin`/`fmax` follow version 2.2 of the F extension (IEEE 754-2019 minimumNumber and
//!   maximumNumber): −0 < +0, a single NaN operand gives the other operand;
//! - square root is computed here, exactly, with an integer square root (`APFloat` has
//!   none), then rounded by `APFloat`.
//!
//! Values are raw bits (`u64`; a single-precision value in the low 32 bits). Each operation
//! returns the result and the flags it raised ([`flags`]).

use rustc_apfloat::ieee::{Double, IeeeFloat, Semantics, Single};
use rustc_apfloat::{Float, FloatConvert, Round, Status, StatusAnd};

/// The exception flags of `fflags`.
pub mod flags {
    /// Invalid operation.
    pub const NV: u8 = 1 << 4;
    /// Divide by zero.
    pub const DZ: u8 = 1 << 3;
    /// Overflow.
    pub const OF: u8 = 1 << 2;
    /// Underflow.
    pub const UF: u8 = 1 << 1;
    /// Inexact.
    pub const NX: u8 = 1;
}

/// A static rounding mode (the `rm` field's values 0 to 4; `dyn` is resolved by the hart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rm {
    /// Round to nearest, ties to even (`rne`).
    Rne,
    /// Round towards zero (`rtz`).
    Rtz,
    /// Round down, towards −∞ (`rdn`).
    Rdn,
    /// Round up, towards +∞ (`rup`).
    Rup,
    /// Round to nearest, ties to max magnitude (`rmm`).
    Rmm,
}

impl Rm {
    /// The mode encoded as `v` (0 to 4), or `None` (5, 6, 7 and above are not static modes).
    pub fn from_bits(v: u64) -> Option<Rm> {
        Some(match v {
            0 => Rm::Rne,
            1 => Rm::Rtz,
            2 => Rm::Rdn,
            3 => Rm::Rup,
            4 => Rm::Rmm,
            _ => return None,
        })
    }

    fn round(self) -> Round {
        match self {
            Rm::Rne => Round::NearestTiesToEven,
            Rm::Rtz => Round::TowardZero,
            Rm::Rdn => Round::TowardNegative,
            Rm::Rup => Round::TowardPositive,
            Rm::Rmm => Round::NearestTiesToAway,
        }
    }
}

/// The precision, 24 bits, of binary32 with the exponent range of binary64: used only to
/// decide tininess after rounding.
struct WideSingleS;
impl Semantics for WideSingleS {
    const BITS: usize = 64;
    const EXP_BITS: usize = 11;
    const PRECISION: usize = 24;
}

/// The precision, 53 bits, of binary64 with a 15-bit exponent: used only to decide
/// tininess after rounding.
struct WideDoubleS;
impl Semantics for WideDoubleS {
    const BITS: usize = 80;
    const EXP_BITS: usize = 15;
    const PRECISION: usize = 53;
}

/// One of the two formats, with what the RISC-V rules need to know about it.
trait Format: Float + FloatConvert<Self::Wide> + Copy {
    /// The same precision with a wider exponent range.
    type Wide: Float + Copy;
    /// The canonical NaN.
    const CANONICAL_NAN: u64;
    /// The bits of the smallest positive normal number.
    const MIN_NORMAL: u64;
    /// The sign bit.
    const SIGN: u64;
    /// The smallest positive normal number of the wide format's range we compare with.
    fn wide_min_normal() -> Self::Wide;
}

impl Format for Single {
    type Wide = IeeeFloat<WideSingleS>;
    const CANONICAL_NAN: u64 = 0x7fc0_0000;
    const MIN_NORMAL: u64 = 0x0080_0000;
    const SIGN: u64 = 1 << 31;
    fn wide_min_normal() -> Self::Wide {
        Self::Wide::from_u128(1).value.scalbn(-126)
    }
}

impl Format for Double {
    type Wide = IeeeFloat<WideDoubleS>;
    const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;
    const MIN_NORMAL: u64 = 0x0010_0000_0000_0000;
    const SIGN: u64 = 1 << 63;
    fn wide_min_normal() -> Self::Wide {
        Self::Wide::from_u128(1).value.scalbn(-1022)
    }
}

fn status_flags(s: Status) -> u8 {
    let mut f = 0;
    if s.contains(Status::INVALID_OP) {
        f |= flags::NV;
    }
    if s.contains(Status::DIV_BY_ZERO) {
        f |= flags::DZ;
    }
    if s.contains(Status::OVERFLOW) {
        f |= flags::OF;
    }
    if s.contains(Status::UNDERFLOW) {
        f |= flags::UF;
    }
    if s.contains(Status::INEXACT) {
        f |= flags::NX;
    }
    f
}

fn from<F: Format>(bits: u64) -> F {
    F::from_bits(u128::from(bits))
}

fn is_snan<F: Format>(x: F) -> bool {
    x.is_signaling()
}

/// Turns a rounded result into RISC-V's: the canonical NaN for any NaN, the flags as
/// `fflags` bits, underflow decided after rounding, and overflow whenever the result
/// rounded with an unbounded exponent exceeds the largest finite number (`APFloat` flags
/// it only when the result becomes infinite, not when a directed rounding mode gives the
/// largest finite number). `wide` redoes the operation in the wide format; it is called
/// only for an inexact result of the smallest normal or the largest finite magnitude.
fn round_tiny<F: Format>(r: StatusAnd<F>, wide: impl FnOnce() -> F::Wide) -> (u64, u8) {
    let StatusAnd { status, value } = r;
    if value.is_nan() {
        return (F::CANONICAL_NAN, status_flags(status));
    }
    let bits = value.to_bits() as u64;
    let mut fl = status_flags(status);
    let magnitude = bits & !F::SIGN;
    if fl & flags::NX != 0 && fl & (flags::UF | flags::OF) == 0 {
        if magnitude == F::MIN_NORMAL {
            if wide().abs() < F::wide_min_normal() {
                fl |= flags::UF;
            }
        } else if magnitude == F::largest().to_bits() as u64 {
            let largest: F::Wide = F::largest().convert(&mut false).value;
            if wide().abs() > largest {
                fl |= flags::OF;
            }
        }
    }
    (bits, fl)
}

fn widen<F: Format>(x: F) -> F::Wide {
    // Exact: the wide format has the same precision and a wider range.
    x.convert(&mut false).value
}

/// A binary operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a × b`.
    Mul,
    /// `a ÷ b`.
    Div,
}

fn binop_in<T: Float>(op: BinOp, a: T, b: T, r: Round) -> StatusAnd<T> {
    match op {
        BinOp::Add => a.add_r(b, r),
        BinOp::Sub => a.sub_r(b, r),
        BinOp::Mul => a.mul_r(b, r),
        BinOp::Div => a.div_r(b, r),
    }
}

fn binop<F: Format>(op: BinOp, a: u64, b: u64, rm: Rm) -> (u64, u8) {
    let (x, y) = (from::<F>(a), from::<F>(b));
    let r = rm.round();
    let (bits, mut fl) = round_tiny(binop_in(op, x, y, r), || {
        binop_in(op, widen(x), widen(y), r).value
    });
    if is_snan(x) || is_snan(y) {
        fl |= flags::NV;
    }
    (bits, fl)
}

/// `a op b` in single precision (`fadd.s`, `fsub.s`, `fmul.s`, `fdiv.s`).
pub fn binop32(op: BinOp, a: u32, b: u32, rm: Rm) -> (u32, u8) {
    let (v, f) = binop::<Single>(op, u64::from(a), u64::from(b), rm);
    (v as u32, f)
}

/// `a op b` in double precision.
pub fn binop64(op: BinOp, a: u64, b: u64, rm: Rm) -> (u64, u8) {
    binop::<Double>(op, a, b, rm)
}

/// Which fused multiply-add: the signs applied to the product and the addend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FmaOp {
    /// `a × b + c` (`fmadd`).
    Madd,
    /// `a × b − c` (`fmsub`).
    Msub,
    /// `−(a × b) + c` (`fnmsub`).
    Nmsub,
    /// `−(a × b) − c` (`fnmadd`).
    Nmadd,
}

fn fma<F: Format>(op: FmaOp, a: u64, b: u64, c: u64, rm: Rm) -> (u64, u8) {
    let (neg_prod, neg_add) = match op {
        FmaOp::Madd => (false, false),
        FmaOp::Msub => (false, true),
        FmaOp::Nmsub => (true, false),
        FmaOp::Nmadd => (true, true),
    };
    let (mut x, y, mut z) = (from::<F>(a), from::<F>(b), from::<F>(c));
    let nv = is_snan(x)
        || is_snan(y)
        || is_snan(z)
        || (x.is_infinite() && y.is_zero())
        || (x.is_zero() && y.is_infinite());
    if neg_prod {
        x = -x;
    }
    if neg_add {
        z = -z;
    }
    let r = rm.round();
    let (bits, mut fl) = round_tiny(x.mul_add_r(y, z, r), || {
        widen(x).mul_add_r(widen(y), widen(z), r).value
    });
    if nv {
        fl |= flags::NV;
    }
    (bits, fl)
}

/// A fused multiply-add in single precision, rounded once.
pub fn fma32(op: FmaOp, a: u32, b: u32, c: u32, rm: Rm) -> (u32, u8) {
    let (v, f) = fma::<Single>(op, u64::from(a), u64::from(b), u64::from(c), rm);
    (v as u32, f)
}

/// A fused multiply-add in double precision, rounded once.
pub fn fma64(op: FmaOp, a: u64, b: u64, c: u64, rm: Rm) -> (u64, u8) {
    fma::<Double>(op, a, b, c, rm)
}

/// The square root of the positive finite `x`, correctly rounded.
fn sqrt_finite<F: Format>(x: F, rm: Rm) -> StatusAnd<F> {
    // x = m × 2^e with m an integer of at most 53 bits.
    let bits = x.to_bits() as u64;
    let (frac_bits, bias) = if F::SIGN == 1 << 31 {
        (23, 127)
    } else {
        (52, 1023)
    };
    let biased = (bits & !F::SIGN) >> frac_bits;
    let frac = bits & ((1u64 << frac_bits) - 1);
    let (mut m, mut e) = if biased == 0 {
        // A subnormal: normalise, so that m has its top bit where a normal number's
        // implicit bit is (and so the root below has enough bits).
        let shift = m_shift(frac, frac_bits);
        (frac << shift, 1 - bias - frac_bits - shift as i32)
    } else {
        (frac | (1 << frac_bits), biased as i32 - bias - frac_bits)
    };
    if e % 2 != 0 {
        m <<= 1;
        e -= 1;
    }
    // m ≥ 2^23 (2^52 for double), so sqrt(m × 2^64) has at least 43 (58) significant bits,
    // more than the 24 + 2 (53 + 2) that rounding needs; a non-zero remainder is a sticky
    // bit below all of them.
    let radicand = u128::from(m) << 64;
    let root = radicand.isqrt();
    let sticky = u128::from(root * root != radicand);
    let StatusAnd { status, value } = F::from_u128_r(root | sticky, rm.round());
    // The result is far from overflow and underflow, so scaling it is exact.
    status.and(value.scalbn((e - 64) / 2))
}

/// How far `frac` (non-zero) must move left to put its top bit at bit `frac_bits`.
fn m_shift(frac: u64, frac_bits: i32) -> u32 {
    frac.leading_zeros() - (63 - frac_bits as u32)
}

fn sqrt<F: Format>(a: u64, rm: Rm) -> (u64, u8) {
    let x = from::<F>(a);
    if x.is_nan() {
        return (F::CANONICAL_NAN, if is_snan(x) { flags::NV } else { 0 });
    }
    if x.is_zero() || (x.is_infinite() && !x.is_negative()) {
        return (a, 0);
    }
    if x.is_negative() {
        return (F::CANONICAL_NAN, flags::NV);
    }
    let StatusAnd { status, value } = sqrt_finite(x, rm);
    (value.to_bits() as u64, status_flags(status))
}

/// The square root in single precision (`fsqrt.s`).
pub fn sqrt32(a: u32, rm: Rm) -> (u32, u8) {
    let (v, f) = sqrt::<Single>(u64::from(a), rm);
    (v as u32, f)
}

/// The square root in double precision (`fsqrt.d`).
pub fn sqrt64(a: u64, rm: Rm) -> (u64, u8) {
    sqrt::<Double>(a, rm)
}

/// `fcvt.s.d`: a double rounded to single precision.
pub fn f64_to_f32(a: u64, rm: Rm) -> (u32, u8) {
    let x = from::<Double>(a);
    let r = rm.round();
    let converted: StatusAnd<Single> = x.convert_r(r, &mut false);
    let (bits, mut fl) = round_tiny(converted, || {
        let w: IeeeFloat<WideSingleS> = x.convert_r(r, &mut false).value;
        w
    });
    if is_snan(x) {
        fl |= flags::NV;
    }
    (bits as u32, fl)
}

/// `fcvt.d.s`: a single widened to double precision (always exact).
pub fn f32_to_f64(a: u32) -> (u64, u8) {
    let x = from::<Single>(u64::from(a));
    if x.is_nan() {
        return (
            Double::CANONICAL_NAN,
            if is_snan(x) { flags::NV } else { 0 },
        );
    }
    let v: Double = x.convert(&mut false).value;
    (v.to_bits() as u64, 0)
}

/// The integer type of a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// 32-bit signed (`w`).
    W,
    /// 32-bit unsigned (`wu`).
    Wu,
    /// 64-bit signed (`l`).
    L,
    /// 64-bit unsigned (`lu`).
    Lu,
}

impl IntKind {
    fn range(self) -> (i128, i128) {
        match self {
            IntKind::W => (i128::from(i32::MIN), i128::from(i32::MAX)),
            IntKind::Wu => (0, i128::from(u32::MAX)),
            IntKind::L => (i128::from(i64::MIN), i128::from(i64::MAX)),
            IntKind::Lu => (0, i128::from(u64::MAX)),
        }
    }

    /// The register value of `v` (in range): 32-bit results sign-extended.
    fn register(self, v: i128) -> u64 {
        match self {
            IntKind::W | IntKind::Wu => v as u32 as i32 as i64 as u64,
            IntKind::L | IntKind::Lu => v as u64,
        }
    }
}

fn to_int<F: Format>(a: u64, kind: IntKind, rm: Rm) -> (u64, u8) {
    let x = from::<F>(a);
    let (min, max) = kind.range();
    if x.is_nan() {
        return (kind.register(max), flags::NV);
    }
    if x.is_infinite() {
        let v = if x.is_negative() { min } else { max };
        return (kind.register(v), flags::NV);
    }
    let StatusAnd { status, value } = x.round_to_integral(rm.round());
    // Any finite binary64 integral value fits in i128 except beyond 2^127, which is out of
    // every range anyway.
    let big = value.abs() >= F::from_u128(1u128 << 126).value;
    let n = if big {
        None
    } else {
        let mut exact = true;
        Some(value.to_i128_r(128, Round::TowardZero, &mut exact).value)
    };
    match n {
        Some(n) if (min..=max).contains(&n) => (kind.register(n), status_flags(status)),
        _ => {
            let v = if x.is_negative() { min } else { max };
            (kind.register(v), flags::NV)
        }
    }
}

/// `fcvt.{w,wu,l,lu}.s`: the integer register value and the flags.
pub fn f32_to_int(a: u32, kind: IntKind, rm: Rm) -> (u64, u8) {
    to_int::<Single>(u64::from(a), kind, rm)
}

/// `fcvt.{w,wu,l,lu}.d`: the integer register value and the flags.
pub fn f64_to_int(a: u64, kind: IntKind, rm: Rm) -> (u64, u8) {
    to_int::<Double>(a, kind, rm)
}

fn from_int<F: Format>(x: u64, kind: IntKind, rm: Rm) -> (u64, u8) {
    let r = rm.round();
    let StatusAnd { status, value } = match kind {
        IntKind::W => F::from_i128_r(i128::from(x as i32), r),
        IntKind::Wu => F::from_u128_r(u128::from(x as u32), r),
        IntKind::L => F::from_i128_r(i128::from(x as i64), r),
        IntKind::Lu => F::from_u128_r(u128::from(x), r),
    };
    (value.to_bits() as u64, status_flags(status))
}

/// `fcvt.s.{w,wu,l,lu}`: the integer register `x` rounded to single precision.
pub fn int_to_f32(x: u64, kind: IntKind, rm: Rm) -> (u32, u8) {
    let (v, f) = from_int::<Single>(x, kind, rm);
    (v as u32, f)
}

/// `fcvt.d.{w,wu,l,lu}`: the integer register `x` rounded to double precision.
pub fn int_to_f64(x: u64, kind: IntKind, rm: Rm) -> (u64, u8) {
    from_int::<Double>(x, kind, rm)
}

/// Facts about raw bits of a format, without arithmetic.
#[derive(Clone, Copy, Debug)]
struct Bits {
    sign_bit: u64,
    exp_mask: u64,
    frac_mask: u64,
    quiet_bit: u64,
}

const B32: Bits = Bits {
    sign_bit: 1 << 31,
    exp_mask: 0x7f80_0000,
    frac_mask: 0x007f_ffff,
    quiet_bit: 1 << 22,
};

const B64: Bits = Bits {
    sign_bit: 1 << 63,
    exp_mask: 0x7ff0_0000_0000_0000,
    frac_mask: 0x000f_ffff_ffff_ffff,
    quiet_bit: 1 << 51,
};

impl Bits {
    fn is_nan(&self, v: u64) -> bool {
        v & self.exp_mask == self.exp_mask && v & self.frac_mask != 0
    }

    fn is_snan(&self, v: u64) -> bool {
        self.is_nan(v) && v & self.quiet_bit == 0
    }

    fn canonical_nan(&self) -> u64 {
        self.exp_mask | self.quiet_bit
    }

    /// Orders two non-NaN values as numbers, with −0 below +0: the key is monotonic.
    fn key(&self, v: u64) -> i128 {
        let mag = i128::from(v & !self.sign_bit);
        if v & self.sign_bit != 0 {
            -mag - 1
        } else {
            mag
        }
    }

    /// Compares two non-NaN values as IEEE 754 does (−0 equals +0).
    fn cmp(&self, a: u64, b: u64) -> std::cmp::Ordering {
        let zero = |v: u64| v & !self.sign_bit == 0;
        if zero(a) && zero(b) {
            std::cmp::Ordering::Equal
        } else {
            self.key(a).cmp(&self.key(b))
        }
    }
}

fn bits_of(double: bool) -> &'static Bits {
    if double {
        &B64
    } else {
        &B32
    }
}

/// `fmin`/`fmax` (`max` selects the maximum) on raw bits of single (`double` false) or
/// double precision.
pub fn min_max(a: u64, b: u64, max: bool, double: bool) -> (u64, u8) {
    let k = bits_of(double);
    let nv = if k.is_snan(a) || k.is_snan(b) {
        flags::NV
    } else {
        0
    };
    let v = match (k.is_nan(a), k.is_nan(b)) {
        (true, true) => k.canonical_nan(),
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            let a_first = k.key(a) < k.key(b);
            if a_first != max {
                a
            } else {
                b
            }
        }
    };
    (v, nv)
}

/// The comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `feq`: quiet (NV only for a signalling NaN).
    Eq,
    /// `flt`: signalling (NV for any NaN).
    Lt,
    /// `fle`: signalling.
    Le,
}

/// `feq`/`flt`/`fle` on raw bits: 1 or 0, and the flags.
pub fn compare(a: u64, b: u64, op: Cmp, double: bool) -> (u64, u8) {
    let k = bits_of(double);
    if k.is_nan(a) || k.is_nan(b) {
        let nv = op != Cmp::Eq || k.is_snan(a) || k.is_snan(b);
        return (0, if nv { flags::NV } else { 0 });
    }
    let o = k.cmp(a, b);
    let t = match op {
        Cmp::Eq => o.is_eq(),
        Cmp::Lt => o.is_lt(),
        Cmp::Le => o.is_le(),
    };
    (u64::from(t), 0)
}

/// `fclass`: the one-hot class mask of raw bits.
pub fn classify(a: u64, double: bool) -> u64 {
    let k = bits_of(double);
    let neg = a & k.sign_bit != 0;
    let exp = a & k.exp_mask;
    let frac = a & k.frac_mask;
    let bit = if exp == k.exp_mask {
        if frac == 0 {
            if neg {
                0
            } else {
                7
            }
        } else if a & k.quiet_bit != 0 {
            9
        } else {
            8
        }
    } else if exp == 0 {
        match (frac == 0, neg) {
            (true, true) => 3,
            (true, false) => 4,
            (false, true) => 2,
            (false, false) => 5,
        }
    } else if neg {
        1
    } else {
        6
    };
    1 << bit
}

/// The sign-injection operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sgn {
    /// `fsgnj`: the sign of `b`.
    J,
    /// `fsgnjn`: the opposite of `b`'s sign.
    Jn,
    /// `fsgnjx`: the sign of `a` xor the sign of `b`.
    Jx,
}

/// `fsgnj`/`fsgnjn`/`fsgnjx` on raw bits.
pub fn sign_inject(a: u64, b: u64, op: Sgn, double: bool) -> u64 {
    let s = bits_of(double).sign_bit;
    let sign = match op {
        Sgn::J => b & s,
        Sgn::Jn => !b & s,
        Sgn::Jx => (a ^ b) & s,
    };
    (a & !s) | sign
}

/// NaN-boxing: the 64-bit register value holding single-precision `v`.
pub fn box32(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | u64::from(v)
}

/// The single-precision value a 64-bit register holds: its low half if properly NaN-boxed,
/// otherwise the canonical NaN.
pub fn unbox32(r: u64) -> u32 {
    if r >> 32 == 0xffff_ffff {
        r as u32
    } else {
        0x7fc0_0000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flags::*;

    const ONE: u32 = 0x3f80_0000;
    const TWO: u32 = 0x4000_0000;
    const THREE: u32 = 0x4040_0000;
    const HALF: u32 = 0x3f00_0000;
    const NZERO: u32 = 0x8000_0000;
    const INF: u32 = 0x7f80_0000;
    const NINF: u32 = 0xff80_0000;
    const QNAN: u32 = 0x7fc0_0000;
    const SNAN: u32 = 0x7f80_0001;
    const MAX: u32 = 0x7f7f_ffff;
    const MIN_NORMAL: u32 = 0x0080_0000;
    const BELOW_ONE: u32 = 0x3f7f_ffff;
    const D_ONE: u64 = 0x3ff0_0000_0000_0000;
    const D_QNAN: u64 = 0x7ff8_0000_0000_0000;
    const D_SNAN: u64 = 0x7ff0_0000_0000_0001;
    const D_MIN_NORMAL: u64 = 0x0010_0000_0000_0000;
    const D_BELOW_ONE: u64 = 0x3fef_ffff_ffff_ffff;

    use Rm::*;

    /// A single-precision binary operation: result bits and flags.
    fn check32(op: BinOp, a: u32, b: u32, rm: Rm, want: (u32, u8)) {
        assert_eq!(
            binop32(op, a, b, rm),
            want,
            "{op:?} {a:#x} {b:#x} {rm:?}: got {:#x?}",
            binop32(op, a, b, rm)
        );
    }

    #[test]
    fn single_arithmetic_results_and_flags() {
        use BinOp::*;
        for (op, a, b, rm, want) in [
            (Add, ONE, TWO, Rne, (THREE, 0)),
            // 1 + 2^-24 is a tie: to even (1.0) or up.
            (Add, ONE, 0x3380_0000, Rne, (ONE, NX)),
            (Add, ONE, 0x3380_0000, Rup, (0x3f80_0001, NX)),
            (Add, ONE, 0x3380_0000, Rmm, (0x3f80_0001, NX)),
            (Add, ONE, 0x3380_0000, Rtz, (ONE, NX)),
            // Overflow: to infinity or to the largest finite value by mode.
            (Add, MAX, MAX, Rne, (INF, OF | NX)),
            (Add, MAX, MAX, Rtz, (MAX, OF | NX)),
            // The largest finite value plus half an ulp rounds down without overflow.
            (Add, MAX, 0x7300_0000, Rtz, (MAX, NX)),
            (Add, MAX, 0x7300_0000, Rne, (INF, OF | NX)),
            (Add, MAX, MAX, Rdn, (MAX, OF | NX)),
            (Add, MAX, MAX, Rup, (INF, OF | NX)),
            (Mul, MAX | NZERO, TWO, Rup, (MAX | NZERO, OF | NX)),
            (Mul, MAX | NZERO, TWO, Rdn, (NINF, OF | NX)),
            // Invalid operations give the canonical NaN.
            (Sub, INF, INF, Rne, (QNAN, NV)),
            (Mul, INF, 0, Rne, (QNAN, NV)),
            (Div, 0, 0, Rne, (QNAN, NV)),
            (Div, INF, NINF, Rne, (QNAN, NV)),
            // NaN operands: canonical result; NV only for a signalling one.
            (Add, SNAN, ONE, Rne, (QNAN, NV)),
            (Add, ONE, 0xffc0_1234, Rne, (QNAN, 0)),
            (Mul, 0x7fc0_0001, 0, Rne, (QNAN, 0)),
            (Mul, SNAN, 0, Rne, (QNAN, NV)),
            // Division by zero.
            (Div, ONE, 0, Rne, (INF, DZ)),
            (Div, ONE, NZERO, Rne, (NINF, DZ)),
            (Div, INF, 0, Rne, (INF, 0)),
            // Exact zero sums: +0, except -0 when rounding down.
            (Sub, ONE, ONE, Rne, (0, 0)),
            (Sub, ONE, ONE, Rdn, (NZERO, 0)),
            (Add, NZERO, NZERO, Rne, (NZERO, 0)),
            (Add, NZERO, 0, Rup, (0, 0)),
            // Tininess after rounding: 2^-126 * (1 - 2^-24) rounds (to nearest, or up) to
            // the smallest normal, but with an unbounded exponent it is exact and below
            // 2^-126: tiny and inexact, so UF.
            (Mul, MIN_NORMAL, BELOW_ONE, Rne, (MIN_NORMAL, UF | NX)),
            (Mul, MIN_NORMAL, BELOW_ONE, Rup, (MIN_NORMAL, UF | NX)),
            (Mul, MIN_NORMAL, BELOW_ONE, Rtz, (0x007f_ffff, UF | NX)),
            // 2^-126 * (1 - 2^-23) is an exact subnormal: no flag at all.
            (Mul, MIN_NORMAL, 0x3f7f_fffe, Rne, (0x007f_ffff, 0)),
            // Rounding up from above 2^-126 is not tiny.
            (Mul, 0x0080_0001, BELOW_ONE, Rne, (MIN_NORMAL, NX)),
            // The smallest subnormal halved: a tie to zero (even) or up.
            (Mul, 1, HALF, Rne, (0, UF | NX)),
            (Mul, 1, HALF, Rup, (1, UF | NX)),
            (Div, 1, TWO, Rdn, (0, UF | NX)),
            (Mul, 1 | NZERO, HALF, Rne, (NZERO, UF | NX)),
        ] {
            check32(op, a, b, rm, want);
        }
    }

    #[test]
    fn double_arithmetic_tininess_and_nans() {
        use BinOp::*;
        for (op, a, b, rm, want) in [
            (Add, D_ONE, D_ONE, Rne, (0x4000_0000_0000_0000, 0)),
            (Mul, D_MIN_NORMAL, D_BELOW_ONE, Rne, (D_MIN_NORMAL, UF | NX)),
            (
                Mul,
                D_MIN_NORMAL,
                D_BELOW_ONE,
                Rtz,
                (0x000f_ffff_ffff_ffff, UF | NX),
            ),
            (Add, D_SNAN, D_ONE, Rne, (D_QNAN, NV)),
            (Div, D_ONE, 0, Rne, (0x7ff0_0000_0000_0000, DZ)),
            (
                Add,
                0x7fef_ffff_ffff_ffff,
                0x7fef_ffff_ffff_ffff,
                Rtz,
                (0x7fef_ffff_ffff_ffff, OF | NX),
            ),
        ] {
            assert_eq!(binop64(op, a, b, rm), want, "{op:?} {a:#x} {b:#x} {rm:?}");
        }
    }

    #[test]
    fn fused_multiply_add_rounds_once() {
        use FmaOp::*;
        let a = 0x3f80_0001; // 1 + 2^-23
        let c = 0x3f80_0002 | NZERO; // -(1 + 2^-22)
        for (op, x, y, z, rm, want) in [
            // (1 + 2^-23)^2 - (1 + 2^-22) = 2^-46 exactly; two roundings would give 0.
            (Madd, a, a, c, Rne, (0x2880_0000, 0)),
            (Msub, a, a, c & !NZERO, Rne, (0x2880_0000, 0)),
            (Nmadd, a, a, c, Rne, (0x2880_0000 | NZERO, 0)),
            (Nmsub, a, a, c & !NZERO, Rne, (0x2880_0000 | NZERO, 0)),
            // 0 x inf + qNaN is invalid (the ISA manual's rule), and so is inf x 0 + 1.
            (Madd, 0, INF, QNAN, Rne, (QNAN, NV)),
            (Madd, INF, 0, ONE, Rne, (QNAN, NV)),
            (Madd, ONE, ONE, QNAN, Rne, (QNAN, 0)),
            (Madd, ONE, ONE, SNAN, Rne, (QNAN, NV)),
            // inf - inf in the addition.
            (Madd, INF, ONE, NINF, Rne, (QNAN, NV)),
            // Exact zero: +0 to nearest, -0 rounding down; fnmadd of zeros.
            (Madd, ONE, ONE, ONE | NZERO, Rne, (0, 0)),
            (Madd, ONE, ONE, ONE | NZERO, Rdn, (NZERO, 0)),
            (Nmadd, 0, ONE, 0, Rne, (NZERO, 0)),
            (Nmsub, 0, ONE, 0, Rne, (0, 0)),
            (Madd, TWO, THREE, ONE, Rne, (0x40e0_0000, 0)),
            (Madd, MAX, TWO, NINF, Rne, (NINF, 0)),
            (Madd, MAX, TWO, 0, Rne, (INF, OF | NX)),
        ] {
            assert_eq!(
                fma32(op, x, y, z, rm),
                want,
                "{op:?} {x:#x} {y:#x} {z:#x} {rm:?}"
            );
        }
        assert_eq!(
            fma64(Madd, 0, 0x7ff0_0000_0000_0000, D_QNAN, Rne),
            (D_QNAN, NV)
        );
    }

    #[test]
    fn square_roots() {
        for (a, rm, want) in [
            (0x4080_0000, Rne, (TWO, 0)),
            (TWO, Rne, (0x3fb5_04f3, NX)),
            (TWO, Rup, (0x3fb5_04f4, NX)),
            (TWO, Rtz, (0x3fb5_04f3, NX)),
            (ONE | NZERO, Rne, (QNAN, NV)),
            (NINF, Rne, (QNAN, NV)),
            (NZERO, Rne, (NZERO, 0)),
            (0, Rne, (0, 0)),
            (INF, Rne, (INF, 0)),
            (SNAN, Rne, (QNAN, NV)),
            (QNAN | NZERO, Rne, (QNAN, 0)),
            // The smallest subnormal: 2^-149 has root 2^-74.5.
            (1, Rne, (0x1a35_04f3, NX)),
            (2, Rne, (0x1a80_0000, 0)),
            (3, Rne, (0x1a9c_c471, NX)),
            (MAX, Rne, (0x5f7f_ffff, NX)),
        ] {
            assert_eq!(sqrt32(a, rm), want, "sqrt {a:#x} {rm:?}");
        }
        for (a, rm, want) in [
            (0x4000_0000_0000_0000, Rne, (0x3ff6_a09e_667f_3bcd, NX)),
            (0x4000_0000_0000_0000, Rup, (0x3ff6_a09e_667f_3bcd, NX)),
            (0x4000_0000_0000_0000, Rtz, (0x3ff6_a09e_667f_3bcc, NX)),
            (0x4010_0000_0000_0000, Rne, (0x4000_0000_0000_0000, 0)),
            (1, Rne, (0x1e60_0000_0000_0000, 0)),
            // Subnormals with few significant bits (found by the Spike comparison).
            (2, Rtz, (0x1e66_a09e_667f_3bcc, NX)),
            (2, Rne, (0x1e66_a09e_667f_3bcd, NX)),
            (3, Rne, (0x1e6b_b67a_e858_4caa, NX)),
            (0x000f_ffff_ffff_ffff, Rne, (0x1fff_ffff_ffff_ffff, NX)),
            (D_SNAN, Rne, (D_QNAN, NV)),
        ] {
            assert_eq!(sqrt64(a, rm), want, "sqrt {a:#x} {rm:?}");
        }
    }

    #[test]
    fn conversions_to_integers_saturate_with_nv() {
        use IntKind::*;
        let m = |v: i64| v as u64;
        for (a, kind, rm, want) in [
            (0x4020_0000u32, W, Rne, (m(2), NX)), // 2.5
            (0x4020_0000, W, Rmm, (m(3), NX)),
            (0x4020_0000, W, Rup, (m(3), NX)),
            (0xc020_0000, W, Rdn, (m(-3), NX)),
            (0xc020_0000, W, Rtz, (m(-2), NX)),
            (0xc020_0000, W, Rne, (m(-2), NX)),
            (0xc020_0000, W, Rmm, (m(-3), NX)),
            (QNAN, W, Rne, (m(0x7fff_ffff), NV)),
            (QNAN | NZERO, W, Rne, (m(0x7fff_ffff), NV)),
            (SNAN, L, Rne, (m(i64::MAX), NV)),
            (QNAN, Wu, Rne, (u64::MAX, NV)), // 2^32 - 1, sign-extended
            (QNAN, Lu, Rne, (u64::MAX, NV)),
            (NINF, W, Rne, (m(i64::from(i32::MIN)), NV)),
            (INF, W, Rne, (m(0x7fff_ffff), NV)),
            (0x4f32_d05e, W, Rne, (m(0x7fff_ffff), NV)), // 3e9
            (0xcf00_0000, W, Rne, (m(i64::from(i32::MIN)), 0)), // -2^31 exactly
            (0xbf80_0000, Wu, Rne, (0, NV)),             // -1
            (0xbf00_0000, Wu, Rtz, (0, NX)),             // -0.5 rounds to -0: in range
            (0xbf00_0000, Wu, Rdn, (0, NV)),             // -0.5 rounds to -1
            (0x4f6e_6b28, Wu, Rne, (0xffff_ffff_ee6b_2800, 0)), // 4e9, sign-extended
            (0x5f80_0000, Lu, Rne, (u64::MAX, NV)),      // 2^64
            (0x5f7f_ffff, Lu, Rne, (0xffff_ff00_0000_0000, 0)),
            (NZERO, L, Rne, (0, 0)),
            (1, L, Rup, (1, NX)),
            (1 | NZERO, L, Rdn, (m(-1), NX)),
        ] {
            assert_eq!(f32_to_int(a, kind, rm), want, "{a:#x} {kind:?} {rm:?}");
        }
        for (a, kind, rm, want) in [
            (0x43e0_0000_0000_0000u64, L, Rne, (m(i64::MAX), NV)), // 2^63
            (0xc3e0_0000_0000_0000, L, Rne, (m(i64::MIN), 0)),     // -2^63
            (0xc1e0_0000_0010_0000, W, Rtz, (m(i64::from(i32::MIN)), NX)), // -2^31 - 0.5
            (0xc1e0_0000_0010_0000, W, Rdn, (m(i64::from(i32::MIN)), NV)),
            (0x41ef_ffff_ffe0_0000, Wu, Rne, (u64::MAX, 0)), // 2^32 - 1
            (0x41f0_0000_0000_0000, Wu, Rne, (u64::MAX, NV)), // 2^32
            (D_QNAN, Lu, Rne, (u64::MAX, NV)),
            (0x7ff0_0000_0000_0000 | (1 << 63), Lu, Rne, (0, NV)),
            (0x3fe0_0000_0000_0000, L, Rmm, (1, NX)), // 0.5
            (0x3fe0_0000_0000_0000, L, Rne, (0, NX)),
        ] {
            assert_eq!(f64_to_int(a, kind, rm), want, "{a:#x} {kind:?} {rm:?}");
        }
    }

    #[test]
    fn conversions_from_integers_and_between_formats() {
        use IntKind::*;
        for (x, kind, rm, want) in [
            (16_777_217u64, W, Rne, (0x4b80_0000u32, NX)),
            (16_777_217, W, Rup, (0x4b80_0001, NX)),
            (u64::MAX, Lu, Rne, (0x5f80_0000, NX)),
            (u64::MAX, L, Rne, (0xbf80_0000, 0)),
            (u64::MAX, W, Rne, (0xbf80_0000, 0)),
            (u64::MAX, Wu, Rne, (0x4f80_0000, NX)), // 2^32 - 1 rounds to 2^32
            (0, L, Rdn, (0, 0)),
        ] {
            assert_eq!(int_to_f32(x, kind, rm), want, "{x:#x} {kind:?} {rm:?}");
        }
        assert_eq!(int_to_f64(u64::MAX, L, Rne), (0xbff0_0000_0000_0000, 0));
        assert_eq!(int_to_f64(0x8000_0000, W, Rne), (0xc1e0_0000_0000_0000, 0));
        assert_eq!(int_to_f64(u64::MAX, Lu, Rtz), (0x43ef_ffff_ffff_ffff, NX));
        for (a, rm, want) in [
            (0x47ef_ffff_e000_0000u64, Rne, (MAX, 0)),
            (0x4a51_1b0e_c57e_649a, Rne, (INF, OF | NX)), // 1e50
            (0x4a51_1b0e_c57e_649a, Rtz, (MAX, OF | NX)),
            (D_SNAN, Rne, (QNAN, NV)),
            (D_QNAN | (1 << 63), Rne, (QNAN, 0)),
            (0x3ff0_0000_1000_0000, Rne, (ONE, NX)), // 1 + 2^-24: a tie to even
            (0x3ff0_0000_1000_0000, Rup, (0x3f80_0001, NX)),
            // 2^-126 (1 - 2^-24): rounds up to the smallest normal, but it is tiny (exact
            // with an unbounded exponent).
            (0x380f_ffff_e000_0000, Rne, (MIN_NORMAL, UF | NX)),
            // 2^-126 (1 - 2^-25): with an unbounded exponent a tie to 2^-126, not tiny.
            (0x380f_ffff_f000_0000, Rne, (MIN_NORMAL, NX)),
            (0x380f_ffff_c000_0000, Rne, (0x007f_ffff, 0)),
            (0x3690_0000_0000_0000, Rne, (0, UF | NX)), // 2^-150: a tie to zero
        ] {
            assert_eq!(f64_to_f32(a, rm), want, "{a:#x} {rm:?}");
        }
        assert_eq!(f32_to_f64(ONE), (D_ONE, 0));
        assert_eq!(f32_to_f64(SNAN), (D_QNAN, NV));
        assert_eq!(f32_to_f64(QNAN | NZERO | 5), (D_QNAN, 0));
        assert_eq!(f32_to_f64(1), (0x36a0_0000_0000_0000, 0));
    }

    #[test]
    fn min_max_compare_classify_sign_inject() {
        let s = u64::from;
        for (a, b, max, want) in [
            (s(NZERO), 0, false, (s(NZERO), 0)),
            (0, s(NZERO), false, (s(NZERO), 0)),
            (s(NZERO), 0, true, (0, 0)),
            (s(QNAN), s(ONE), false, (s(ONE), 0)),
            (s(ONE), s(QNAN), true, (s(ONE), 0)),
            (s(SNAN), s(ONE), false, (s(ONE), NV)),
            (s(QNAN), s(SNAN), true, (s(QNAN), NV)),
            (s(0xffc0_0001), s(QNAN | 3), false, (s(QNAN), 0)),
            (s(TWO), s(THREE), false, (s(TWO), 0)),
            (s(TWO), s(THREE), true, (s(THREE), 0)),
            (s(NINF), s(MAX), false, (s(NINF), 0)),
        ] {
            assert_eq!(min_max(a, b, max, false), want, "{a:#x} {b:#x} max={max}");
        }
        assert_eq!(min_max(D_SNAN, D_ONE, true, true), (D_ONE, NV));
        assert_eq!(min_max(D_SNAN, D_QNAN, true, true), (D_QNAN, NV));
        for (a, b, op, want) in [
            (s(QNAN), s(ONE), Cmp::Eq, (0, 0)),
            (s(SNAN), s(ONE), Cmp::Eq, (0, NV)),
            (s(QNAN), s(ONE), Cmp::Lt, (0, NV)),
            (s(ONE), s(QNAN), Cmp::Le, (0, NV)),
            (s(NZERO), 0, Cmp::Eq, (1, 0)),
            (s(NZERO), 0, Cmp::Lt, (0, 0)),
            (s(NZERO), 0, Cmp::Le, (1, 0)),
            (s(ONE), s(TWO), Cmp::Lt, (1, 0)),
            (s(TWO), s(ONE), Cmp::Le, (0, 0)),
            (s(NINF), s(0xff7f_ffff), Cmp::Lt, (1, 0)),
            (s(0xbf80_0000), s(0xc000_0000), Cmp::Lt, (0, 0)),
        ] {
            assert_eq!(compare(a, b, op, false), want, "{a:#x} {b:#x} {op:?}");
        }
        assert_eq!(compare(D_ONE, D_ONE, Cmp::Eq, true), (1, 0));
        for (a, class) in [
            (NINF, 0),
            (0xbf80_0000, 1),
            (0x8000_0001, 2),
            (NZERO, 3),
            (0, 4),
            (1, 5),
            (ONE, 6),
            (INF, 7),
            (SNAN, 8),
            (QNAN, 9),
            (0xffc0_0000, 9),
        ] {
            assert_eq!(classify(s(a), false), 1 << class, "{a:#x}");
        }
        assert_eq!(classify(D_SNAN, true), 1 << 8);
        assert_eq!(classify(0x8000_0000_0000_0001, true), 1 << 2);
        assert_eq!(sign_inject(s(ONE), s(NZERO), Sgn::J, false), s(ONE | NZERO));
        assert_eq!(sign_inject(s(ONE), s(ONE), Sgn::Jn, false), s(ONE | NZERO));
        assert_eq!(
            sign_inject(s(ONE | NZERO), s(NZERO), Sgn::Jx, false),
            s(ONE)
        );
        assert_eq!(sign_inject(D_ONE, 1 << 63, Sgn::J, true), D_ONE | 1 << 63);
        assert_eq!(box32(ONE), 0xffff_ffff_3f80_0000);
        assert_eq!(unbox32(0xffff_ffff_3f80_0000), ONE);
        assert_eq!(unbox32(0x0000_0000_3f80_0000), QNAN);
        assert_eq!(unbox32(0xffff_fffe_3f80_0000), QNAN);
    }

    /// A deterministic stream of operands: random bits, and random picks of special values.
    fn operands(seed: u64, n: usize, double: bool) -> Vec<u64> {
        let specials64 = [
            0u64,
            1 << 63,
            D_ONE,
            D_MIN_NORMAL,
            1,
            0x7fef_ffff_ffff_ffff,
            0x7ff0_0000_0000_0000,
            0x4000_0000_0000_0000,
            2,
            3,
            0x000f_ffff_ffff_ffff,
        ];
        let specials32 = [
            0u64,
            0x8000_0000,
            0x3f80_0000,
            0x0080_0000,
            1,
            0x7f7f_ffff,
            0x7f80_0000,
        ];
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                match (z % 8, double) {
                    (0, true) => specials64[(z >> 8) as usize % specials64.len()],
                    (0, false) => specials32[(z >> 8) as usize % specials32.len()],
                    // Operands near 1 so that sums and products round often.
                    (1, true) => 0x3ff0_0000_0000_0000 | (z >> 12),
                    (1, false) => 0x3f80_0000 | (z >> 41),
                    (_, true) => z,
                    (_, false) => z >> 32,
                }
            })
            .collect()
    }

    /// Round to nearest even, where the host's IEEE 754 arithmetic applies: every result
    /// that is not a NaN agrees with the host bit for bit, and NaN results with the
    /// canonical NaN.
    #[test]
    fn random_operands_agree_with_the_host_to_nearest_even() {
        let n = 20_000;
        let (xs, ys, zs) = (
            operands(1, n, true),
            operands(2, n, true),
            operands(3, n, true),
        );
        // NaN-ness from the bits: an optimised build may assume the host's sqrt of a
        // negative is not NaN and fold `is_nan` away.
        let host64 = |v: f64| {
            let bits = v.to_bits();
            if bits & 0x7ff0_0000_0000_0000 == 0x7ff0_0000_0000_0000 && bits << 12 != 0 {
                D_QNAN
            } else {
                bits
            }
        };
        for k in 0..n {
            let (a, b, c) = (xs[k], ys[k], zs[k]);
            let (x, y, z) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
            for (op, h) in [
                (BinOp::Add, x + y),
                (BinOp::Sub, x - y),
                (BinOp::Mul, x * y),
                (BinOp::Div, x / y),
            ] {
                assert_eq!(binop64(op, a, b, Rne).0, host64(h), "{op:?} {a:#x} {b:#x}");
            }
            assert_eq!(
                fma64(FmaOp::Madd, a, b, c, Rne).0,
                host64(x.mul_add(y, z)),
                "fma {a:#x} {b:#x} {c:#x}"
            );
            assert_eq!(sqrt64(a, Rne).0, host64(x.sqrt()), "sqrt {a:#x}");
            let narrowed = x as f32;
            let want = if narrowed.is_nan() {
                0x7fc0_0000
            } else {
                narrowed.to_bits()
            };
            assert_eq!(f64_to_f32(a, Rne).0, want, "fcvt.s.d {a:#x}");
            if x.abs() < 9.0e18 {
                assert_eq!(
                    f64_to_int(a, IntKind::L, Rtz).0,
                    x as i64 as u64,
                    "fcvt.l.d {a:#x}"
                );
            }
            assert_eq!(
                int_to_f64(a, IntKind::L, Rne).0,
                (a as i64 as f64).to_bits(),
                "fcvt.d.l {a:#x}"
            );
            assert_eq!(
                compare(a, b, Cmp::Lt, true).0,
                u64::from(x < y),
                "flt {a:#x} {b:#x}"
            );
            assert_eq!(
                compare(a, b, Cmp::Eq, true).0,
                u64::from(x == y),
                "feq {a:#x} {b:#x}"
            );
        }
        let (xs, ys, zs) = (
            operands(4, n, false),
            operands(5, n, false),
            operands(6, n, false),
        );
        let host32 = |v: f32| {
            let bits = v.to_bits();
            if bits & 0x7f80_0000 == 0x7f80_0000 && bits << 9 != 0 {
                0x7fc0_0000
            } else {
                bits
            }
        };
        for k in 0..n {
            let (a, b, c) = (xs[k] as u32, ys[k] as u32, zs[k] as u32);
            let (x, y, z) = (f32::from_bits(a), f32::from_bits(b), f32::from_bits(c));
            for (op, h) in [
                (BinOp::Add, x + y),
                (BinOp::Sub, x - y),
                (BinOp::Mul, x * y),
                (BinOp::Div, x / y),
            ] {
                assert_eq!(binop32(op, a, b, Rne).0, host32(h), "{op:?} {a:#x} {b:#x}");
            }
            assert_eq!(
                fma32(FmaOp::Madd, a, b, c, Rne).0,
                host32(x.mul_add(y, z)),
                "fma {a:#x} {b:#x} {c:#x}"
            );
            assert_eq!(sqrt32(a, Rne).0, host32(x.sqrt()), "sqrt {a:#x}");
            let widened = f64::from(x);
            let want = if widened.is_nan() {
                D_QNAN
            } else {
                widened.to_bits()
            };
            assert_eq!(f32_to_f64(a).0, want, "fcvt.d.s {a:#x}");
        }
    }

    /// An operation under test, by rounding mode.
    type RoundedOp<'a> = dyn Fn(Rm) -> (u64, u8) + 'a;

    /// The rounding modes against each other on random operands: the result rounded down
    /// is at most the nearest results, which are at most the result rounded up; towards
    /// zero is down for a positive result and up for a negative one; and the result is
    /// inexact (NX, in every mode) exactly when rounding down and up disagree.
    #[test]
    fn rounding_modes_bracket_the_exact_result() {
        let n = 5_000;
        let (xs, ys, zs) = (
            operands(7, n, true),
            operands(8, n, true),
            operands(9, n, true),
        );
        for k in 0..n {
            let (a, b, c) = (xs[k], ys[k], zs[k]);
            let ops: [(&str, &RoundedOp); 6] = [
                ("add", &|rm| binop64(BinOp::Add, a, b, rm)),
                ("mul", &|rm| binop64(BinOp::Mul, a, b, rm)),
                ("div", &|rm| binop64(BinOp::Div, a, b, rm)),
                ("fma", &|rm| fma64(FmaOp::Madd, a, b, c, rm)),
                ("sqrt", &|rm| sqrt64(a, rm)),
                ("fcvt.s.d", &|rm| {
                    let (v, f) = f64_to_f32(a, rm);
                    (f32_to_f64(v).0, f)
                }),
            ];
            for (name, op) in ops {
                let [dn, up, zr, ne, mm] = [Rdn, Rup, Rtz, Rne, Rmm].map(op);
                let v = |r: (u64, u8)| f64::from_bits(r.0);
                if v(ne).is_nan() {
                    continue;
                }
                let ctx = format!("{name} {a:#x} {b:#x} {c:#x}");
                assert!(
                    v(dn) <= v(ne) && v(ne) <= v(up),
                    "{ctx}: {dn:?} {ne:?} {up:?}"
                );
                assert!(
                    v(dn) <= v(mm) && v(mm) <= v(up),
                    "{ctx}: {dn:?} {mm:?} {up:?}"
                );
                let toward_zero = if v(dn) > 0.0 || v(up) > 0.0 { dn } else { up };
                assert_eq!(v(zr), v(toward_zero), "{ctx}: rtz");
                let inexact = v(dn) != v(up);
                for r in [dn, up, zr, ne, mm] {
                    assert_eq!(r.1 & flags::NX != 0, inexact, "{ctx}: NX {r:?}");
                }
            }
        }
    }
}
