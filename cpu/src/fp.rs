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
//!   number from below although it is tiny with an unbounded exponent; [`round_tiny`] redoes
//!   such an operation in a format with the same precision and a wider exponent range to
//!   decide;
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
/// `fflags` bits, and underflow decided after rounding. `wide` redoes the operation in the
/// wide format (called only for a result that rounded to the smallest normal magnitude).
fn round_tiny<F: Format>(r: StatusAnd<F>, wide: impl FnOnce() -> F::Wide) -> (u64, u8) {
    let StatusAnd { status, value } = r;
    if value.is_nan() {
        return (F::CANONICAL_NAN, status_flags(status));
    }
    let bits = value.to_bits() as u64;
    let mut fl = status_flags(status);
    if fl & flags::NX != 0 && fl & flags::UF == 0 && bits & !F::SIGN == F::MIN_NORMAL {
        let w = wide();
        if w.abs() < F::wide_min_normal() {
            fl |= flags::UF;
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
        (frac, 1 - bias - frac_bits)
    } else {
        (frac | (1 << frac_bits), biased as i32 - bias - frac_bits)
    };
    if e % 2 != 0 {
        m <<= 1;
        e -= 1;
    }
    // sqrt(m × 2^64) has at least 32 significant bits, more than the 24 + 2 (53 + 2 for
    // double) that rounding needs; a non-zero remainder is a sticky bit below all of them.
    let radicand = u128::from(m) << 64;
    let root = radicand.isqrt();
    let sticky = u128::from(root * root != radicand);
    let StatusAnd { status, value } = F::from_u128_r(root | sticky, rm.round());
    // The result is far from overflow and underflow, so scaling it is exact.
    status.and(value.scalbn((e - 64) / 2))
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
