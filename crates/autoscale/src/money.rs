//! Money as an exact integer: micro-dollars (USD × 10⁻⁶).
//!
//! The catalog's on-demand prices have six decimals (`0.096000`), so every price is an exact
//! number of micro-dollars and every sum of prices is exact. Nothing here uses floating point.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

/// An amount of US dollars in micro-dollars. As an hourly rate it is "micro-dollars per hour".
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// Parses a non-negative decimal dollar amount with at most six decimals (`"0.0416"`,
    /// `"12"`, `"3.904000"`). More decimals, signs, exponents or other characters are refused.
    pub fn parse_usd(s: &str) -> Option<Money> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 6 {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
            return None;
        }
        let whole: i64 = int.parse().ok()?;
        let mut micros: i64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            micros += (b - b'0') as i64 * 10i64.pow(5 - i as u32);
        }
        whole.checked_mul(1_000_000)?.checked_add(micros).map(Money)
    }

    /// `self × (10000 − bps) / 10000`, rounded half up: a price after a discount in basis points.
    pub fn discounted(self, bps: u32) -> Money {
        let keep = 10_000i128 - bps.min(10_000) as i128;
        Money(((self.0 as i128 * keep + 5_000) / 10_000) as i64)
    }

    /// What an hourly rate costs over `seconds`, rounded half up to the micro-dollar.
    pub fn over_seconds(self, seconds: i64) -> Money {
        Money(((self.0 as i128 * seconds as i128 + 1_800) / 3_600) as i64)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    /// `$1.234567`, six decimals, exact.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}${}.{:06}", abs / 1_000_000, abs % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_catalog_prices_exactly() {
        assert_eq!(Money::parse_usd("0.096000"), Some(Money(96_000)));
        assert_eq!(Money::parse_usd("0.0052"), Some(Money(5_200)));
        assert_eq!(Money::parse_usd("98.32"), Some(Money(98_320_000)));
        assert_eq!(Money::parse_usd("7"), Some(Money(7_000_000)));
        assert_eq!(Money::parse_usd("0.0000001"), None);
        assert_eq!(Money::parse_usd("-1"), None);
        assert_eq!(Money::parse_usd("1e3"), None);
        assert_eq!(Money::parse_usd("1."), None);
        assert_eq!(Money::parse_usd(""), None);
    }

    #[test]
    fn display_discount_and_proration() {
        assert_eq!(Money(96_000).to_string(), "$0.096000");
        assert_eq!(Money(12_700_800).to_string(), "$12.700800");
        assert_eq!(Money(-5).to_string(), "-$0.000005");
        // 60% off $0.096 = $0.0384.
        assert_eq!(Money(96_000).discounted(6_000), Money(38_400));
        // 70% off $0.0052 = 0.00156.
        assert_eq!(Money(5_200).discounted(7_000), Money(1_560));
        // Half an hour of $0.096/h.
        assert_eq!(Money(96_000).over_seconds(1_800), Money(48_000));
        // 1 s of $0.0052/h = 1.444… µ$ → 1.
        assert_eq!(Money(5_200).over_seconds(1), Money(1));
        assert_eq!([Money(1), Money(2)].into_iter().sum::<Money>(), Money(3));
    }
}
