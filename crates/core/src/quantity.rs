//! `resource.Quantity`, parsed exactly.
//!
//! Kubernetes never uses floating point for resources and neither do we: a quantity is held as
//! an exact `digits × 10^exp10 × 2^exp2` and converted to integers with the same rounding as
//! apimachinery (`MilliValue` and `Value` round up, away from zero).

use std::fmt;
use std::str::FromStr;

/// The text apimachinery returns for a malformed quantity (`ErrFormatWrong`).
pub const FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("{FORMAT_ERROR}")]
    Format,
    #[error("unable to parse quantity's suffix")]
    Suffix,
    #[error("quantity has too many digits")]
    TooPrecise,
}

/// An exact quantity: `digits × 10^exp10 × 2^exp2`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Quantity {
    digits: i128,
    exp10: i32,
    exp2: u32,
}

impl Quantity {
    pub const ZERO: Quantity = Quantity { digits: 0, exp10: 0, exp2: 0 };

    /// An integer quantity.
    pub fn from_i64(v: i64) -> Quantity {
        Quantity { digits: v as i128, exp10: 0, exp2: 0 }
    }

    /// A quantity in thousandths (`1500` → `1.5`).
    pub fn from_milli(v: i64) -> Quantity {
        Quantity { digits: v as i128, exp10: -3, exp2: 0 }
    }

    pub fn is_negative(&self) -> bool {
        self.digits < 0
    }

    pub fn is_zero(&self) -> bool {
        self.digits == 0
    }

    /// `ceil(q × 10^scale)` away from zero, saturating at the `i64` range.
    fn scaled(&self, scale: i32) -> i64 {
        if self.digits == 0 {
            return 0;
        }
        let negative = self.digits < 0;
        let mut mag: u128 = self.digits.unsigned_abs();
        // Multiply by 2^exp2 first: it never needs division.
        for _ in 0..self.exp2 {
            mag = match mag.checked_mul(2) {
                Some(m) => m,
                None => return saturate(negative),
            };
        }
        let e = self.exp10 + scale;
        if e >= 0 {
            for _ in 0..e {
                mag = match mag.checked_mul(10) {
                    Some(m) => m,
                    None => return saturate(negative),
                };
            }
        } else {
            let mut divisor: u128 = 1;
            for _ in 0..(-e) {
                divisor = match divisor.checked_mul(10) {
                    Some(d) => d,
                    // The divisor exceeds any representable magnitude: the result is 0 < |q| < 1,
                    // which rounds away from zero to 1.
                    None => return if negative { -1 } else { 1 },
                };
            }
            let rounded_up = mag.div_ceil(divisor);
            mag = rounded_up;
        }
        if mag > i64::MAX as u128 {
            return saturate(negative);
        }
        if negative { -(mag as i64) } else { mag as i64 }
    }

    /// `MilliValue()`: thousandths, rounded up.
    pub fn milli_value(&self) -> i64 {
        self.scaled(3)
    }

    /// `Value()`: whole units, rounded up.
    pub fn value(&self) -> i64 {
        self.scaled(0)
    }
}

fn saturate(negative: bool) -> i64 {
    if negative { i64::MIN } else { i64::MAX }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bytes = s.as_bytes();
        if bytes.is_empty() {
            return Err(QuantityError::Format);
        }
        let mut i = 0;
        let mut negative = false;
        if bytes[0] == b'+' || bytes[0] == b'-' {
            negative = bytes[0] == b'-';
            i = 1;
        }
        let mut digits: i128 = 0;
        let mut exp10: i32 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while i < bytes.len() {
            match bytes[i] {
                c @ b'0'..=b'9' => {
                    seen_digit = true;
                    digits = digits
                        .checked_mul(10)
                        .and_then(|d| d.checked_add((c - b'0') as i128))
                        .ok_or(QuantityError::TooPrecise)?;
                    if seen_point {
                        exp10 -= 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                b'.' => return Err(QuantityError::Format),
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(QuantityError::Format);
        }
        let suffix = &s[i..];
        let mut exp2 = 0u32;
        match suffix {
            "" => {}
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            "Ki" => exp2 = 10,
            "Mi" => exp2 = 20,
            "Gi" => exp2 = 30,
            "Ti" => exp2 = 40,
            "Pi" => exp2 = 50,
            "Ei" => exp2 = 60,
            _ => {
                // Decimal exponent: e<signed int> or E<signed int>.
                let rest = suffix
                    .strip_prefix('e')
                    .or_else(|| suffix.strip_prefix('E'))
                    .ok_or_else(|| classify_bad_suffix(suffix))?;
                let rest_digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
                if rest_digits.is_empty() || !rest_digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(QuantityError::Format);
                }
                let e: i32 = rest.parse().map_err(|_| QuantityError::TooPrecise)?;
                exp10 = exp10.checked_add(e).ok_or(QuantityError::TooPrecise)?;
            }
        }
        if negative {
            digits = -digits;
        }
        Ok(Quantity { digits, exp10, exp2 })
    }
}

fn classify_bad_suffix(suffix: &str) -> QuantityError {
    // apimachinery first checks the shape with its regular expression, then the suffix table.
    if suffix.bytes().all(|b| b"eEinumkKMGTP".contains(&b) || b == b'+' || b == b'-' || b.is_ascii_digit()) {
        QuantityError::Suffix
    } else {
        QuantityError::Format
    }
}

impl fmt::Display for Quantity {
    /// A readable, exact rendering (not apimachinery's canonical form): integers print as
    /// integers, anything finer prints in thousandths with an `m` suffix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let milli = self.milli_value();
        if milli % 1000 == 0 { write!(f, "{}", milli / 1000) } else { write!(f, "{milli}m") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn cpu_forms() {
        assert_eq!(q("1").milli_value(), 1000);
        assert_eq!(q("500m").milli_value(), 500);
        assert_eq!(q("0.5").milli_value(), 500);
        assert_eq!(q(".5").milli_value(), 500);
        assert_eq!(q("2.").milli_value(), 2000);
        assert_eq!(q("1.5").milli_value(), 1500);
        assert_eq!(q("+250m").milli_value(), 250);
        // Sub-milli precision rounds up, as MilliValue does.
        assert_eq!(q("0.1m").milli_value(), 1);
        assert_eq!(q("100u").milli_value(), 1);
        assert_eq!(q("1n").milli_value(), 1);
        assert_eq!(q("1000000n").milli_value(), 1);
    }

    #[test]
    fn memory_forms() {
        assert_eq!(q("128974848").value(), 128_974_848);
        assert_eq!(q("129e6").value(), 129_000_000);
        assert_eq!(q("129E6").value(), 129_000_000);
        assert_eq!(q("129M").value(), 129_000_000);
        assert_eq!(q("123Mi").value(), 123 * 1024 * 1024);
        assert_eq!(q("1.5Gi").value(), 1_610_612_736);
        assert_eq!(q("1Ki").value(), 1024);
        assert_eq!(q("1k").value(), 1000);
        assert_eq!(q("1Ti").value(), 1 << 40);
        assert_eq!(q("1Ei").value(), 1 << 60);
        assert_eq!(q("1E").value(), 1_000_000_000_000_000_000);
        assert_eq!(q("12e-3").milli_value(), 12);
        assert_eq!(q("1e+3").value(), 1000);
    }

    #[test]
    fn value_rounds_up() {
        assert_eq!(q("1500m").value(), 2);
        assert_eq!(q("0.1").value(), 1);
        assert_eq!(q("-0.1").value(), -1);
        assert_eq!(q("0").value(), 0);
    }

    #[test]
    fn huge_values_saturate_instead_of_wrapping() {
        assert_eq!(q("100E").milli_value(), i64::MAX);
        assert_eq!(q("1e40").value(), i64::MAX);
    }

    #[test]
    fn malformed_quantities_are_rejected() {
        for bad in ["", "abc", "1.2.3", "m", "1 Gi", "1GB", "1x", "--1", "1e", "1e+"] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad:?} should not parse");
        }
        assert_eq!("1KB".parse::<Quantity>(), Err(QuantityError::Format));
        assert_eq!("1Ki2".parse::<Quantity>(), Err(QuantityError::Suffix));
    }

    #[test]
    fn display_is_exact() {
        assert_eq!(q("1500m").to_string(), "1500m");
        assert_eq!(q("2").to_string(), "2");
    }

    proptest::proptest! {
        #[test]
        fn milli_integers_round_trip(v in 0i64..1_000_000_000_000) {
            let parsed: Quantity = format!("{v}m").parse().unwrap();
            proptest::prop_assert_eq!(parsed.milli_value(), v);
            let whole: Quantity = format!("{v}").parse().unwrap();
            proptest::prop_assert_eq!(whole.value(), v);
        }

        #[test]
        fn binary_suffixes_are_exact(v in 0i64..1_000_000) {
            let parsed: Quantity = format!("{v}Mi").parse().unwrap();
            proptest::prop_assert_eq!(parsed.value(), v * 1024 * 1024);
        }
    }
}
