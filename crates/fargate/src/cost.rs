//! Fargate cost (doc §5): the `CapacityProvisioned` size per vCPU-hour and GB-hour, plus
//! ephemeral storage above 20 GiB, billed per second with a one-minute minimum.
//!
//! Money is exact: integer pico-dollars. Only JSON serialization turns it into a number.

use crate::lifecycle::BILLING_MINIMUM_SECS;
use crate::sizing::{EphemeralStorage, FargateSize};
use serde::{Serialize, Serializer};
use std::fmt;

/// Hours in the monthly figures (AWS's 730-hour month).
pub const HOURS_PER_MONTH: i128 = 730;
const PICO: i128 = 1_000_000_000_000;

/// US dollars, exactly, as an integer number of pico-dollars (10⁻¹² $).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i128);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_pico(pico: i128) -> Money {
        Money(pico)
    }

    pub fn pico(self) -> i128 {
        self.0
    }

    /// A non-negative decimal dollar amount such as `0.04048`, at most 12 decimals.
    pub fn parse(s: &str) -> Result<Money, String> {
        let t = s.trim().trim_start_matches('$');
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits_ok = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !digits_ok(whole) || !digits_ok(frac) {
            return Err(format!("{s:?} is not a dollar amount (e.g. 0.04048)"));
        }
        if frac.len() > 12 {
            return Err(format!("{s:?} has more than 12 decimals"));
        }
        let whole: i128 =
            if whole.is_empty() { 0 } else { whole.parse().map_err(|_| format!("{s:?} is too large"))? };
        let mut f: i128 =
            if frac.is_empty() { 0 } else { frac.parse().map_err(|_| format!("{s:?} is not a dollar amount"))? };
        for _ in frac.len()..12 {
            f *= 10;
        }
        whole.checked_mul(PICO).and_then(|w| w.checked_add(f)).map(Money).ok_or_else(|| format!("{s:?} is too large"))
    }

    /// `self × num / den`, rounded half up to the pico-dollar.
    pub fn mul_ratio(self, num: i128, den: i128) -> Money {
        if den == 0 {
            return Money::ZERO;
        }
        let p = self.0.saturating_mul(num);
        Money((p + den / 2).div_euclid(den))
    }

    pub fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// Exact decimal text without trailing zeros: `0.0123425`, `9.010025`, `0`.
    pub fn to_decimal_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / PICO as u128;
        let frac = abs % PICO as u128;
        if frac == 0 {
            return format!("{sign}{whole}");
        }
        let frac = format!("{frac:012}");
        format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
    }

    /// Rounded to cents for display (`$9.01`), half up.
    pub fn to_cents_string(self) -> String {
        let cents = Money(self.0).mul_ratio(1, PICO / 100).0;
        format!("${}.{:02}", cents / 100, (cents % 100).abs())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

impl Serialize for Money {
    /// A JSON number with the exact decimal digits (serde_json prints the shortest form that
    /// reads back to the same double, which is the decimal text for amounts this small).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_decimal_string().parse::<f64>() {
            Ok(v) => s.serialize_f64(v),
            Err(_) => s.serialize_str(&self.to_decimal_string()),
        }
    }
}

/// On-demand Linux/x86 rates of one region (EKS Fargate pods are billed at x86 rates, doc §5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FargatePrices {
    pub region: String,
    pub vcpu_hour: Money,
    pub gb_hour: Money,
    /// Per GB-hour above the free 20 GiB; `None` when not known for the region.
    pub ephemeral_storage_gb_hour: Option<Money>,
}

/// Regions with built-in prices.
pub const KNOWN_PRICE_REGIONS: [&str; 2] = ["us-east-1", "ap-northeast-2"];

impl FargatePrices {
    /// Built-in prices (doc §5): us-east-1 $0.04048 / vCPU-h, $0.004445 / GB-h, storage
    /// $0.000111 / GB-h; ap-northeast-2 $0.04656 / vCPU-h, $0.00511 / GB-h, storage price
    /// not found (give it with [`FargatePrices::with_storage`]).
    pub fn for_region(region: &str) -> Option<FargatePrices> {
        let pico = |micro: i128| Money(micro * 1_000_000);
        let (vcpu, gb, storage) = match region {
            "us-east-1" => (pico(40_480), pico(4_445), Some(pico(111))),
            "ap-northeast-2" => (pico(46_560), pico(5_110), None),
            _ => return None,
        };
        Some(FargatePrices {
            region: region.to_string(),
            vcpu_hour: vcpu,
            gb_hour: gb,
            ephemeral_storage_gb_hour: storage,
        })
    }

    /// User-given prices, e.g. `FargatePrices::parse("eu-west-1", "0.04048", "0.004445", Some("0.000111"))`.
    pub fn parse(
        region: &str,
        vcpu_hour: &str,
        gb_hour: &str,
        storage_gb_hour: Option<&str>,
    ) -> Result<FargatePrices, String> {
        Ok(FargatePrices {
            region: region.to_string(),
            vcpu_hour: Money::parse(vcpu_hour).map_err(|e| format!("vCPU-hour price: {e}"))?,
            gb_hour: Money::parse(gb_hour).map_err(|e| format!("GB-hour price: {e}"))?,
            ephemeral_storage_gb_hour: match storage_gb_hour {
                Some(s) => Some(Money::parse(s).map_err(|e| format!("ephemeral storage GB-hour price: {e}"))?),
                None => None,
            },
        })
    }

    pub fn with_storage(mut self, per_gb_hour: Money) -> FargatePrices {
        self.ephemeral_storage_gb_hour = Some(per_gb_hour);
        self
    }
}

/// What one pod costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodCost {
    pub compute_hourly: Money,
    pub storage_hourly: Money,
    pub hourly: Money,
    /// `hourly × 730`.
    pub monthly: Money,
    /// False when the pod has billable storage but the region's storage price is unknown
    /// (its storage cost is then counted as 0).
    pub storage_priced: bool,
}

/// Hourly and monthly cost of a pod of `size` with `storage` (doc §5): vCPU × rate + GB ×
/// rate + (provisioned storage − 20 GiB) × rate.
pub fn pod_cost(size: FargateSize, storage: &EphemeralStorage, prices: &FargatePrices) -> PodCost {
    let compute = prices
        .vcpu_hour
        .mul_ratio(i128::from(size.vcpu_milli), 1000)
        .saturating_add(prices.gb_hour.mul_ratio(i128::from(size.memory_mib), 1024));
    let billed = i128::from(storage.billed_gib.max(0));
    let (storage_hourly, storage_priced) = match prices.ephemeral_storage_gb_hour {
        Some(rate) => (rate.mul_ratio(billed, 1), true),
        None => (Money::ZERO, billed == 0),
    };
    let hourly = compute.saturating_add(storage_hourly);
    PodCost {
        compute_hourly: compute,
        storage_hourly,
        hourly,
        monthly: hourly.mul_ratio(HOURS_PER_MONTH, 1),
        storage_priced,
    }
}

/// Seconds billed for a pod that ran `runtime_ms` (image pull start to termination): rounded
/// up to the second, at least one minute (doc §4.4, §5).
pub fn billed_seconds(runtime_ms: u64) -> u64 {
    runtime_ms.div_ceil(1000).max(BILLING_MINIMUM_SECS)
}

/// Cost of running at `hourly` for `runtime_ms`.
pub fn cost_for(hourly: Money, runtime_ms: u64) -> Money {
    hourly.mul_ratio(i128::from(billed_seconds(runtime_ms)), 3600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::ephemeral_storage;

    fn size(v: i64, m: i64) -> FargateSize {
        FargateSize { vcpu_milli: v, memory_mib: m }
    }

    #[test]
    fn money_parses_and_prints_exactly() {
        assert_eq!(Money::parse("0.04048").unwrap().to_decimal_string(), "0.04048");
        assert_eq!(Money::parse("$1.50").unwrap().to_decimal_string(), "1.5");
        assert_eq!(Money::parse("2").unwrap().to_decimal_string(), "2");
        assert_eq!(Money::parse(".5").unwrap().pico(), 500_000_000_000);
        assert_eq!(Money::ZERO.to_decimal_string(), "0");
        for bad in ["", ".", "abc", "-1", "0.1234567890123", "1e-3"] {
            assert!(Money::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Money::parse("9.010025").unwrap().to_cents_string(), "$9.01");
        assert_eq!(Money::parse("0.005").unwrap().to_cents_string(), "$0.01");
    }

    #[test]
    fn the_documented_example() {
        // Doc §5: 0.25vCPU 0.5GB in us-east-1 = 0.25 × 0.04048 + 0.5 × 0.004445 = $0.0123425/h.
        let prices = FargatePrices::for_region("us-east-1").unwrap();
        let c = pod_cost(size(250, 512), &ephemeral_storage(0).unwrap(), &prices);
        assert_eq!(c.hourly.to_decimal_string(), "0.0123425");
        assert_eq!(c.monthly.to_decimal_string(), "9.010025");
        assert_eq!(c.storage_hourly, Money::ZERO);
        assert!(c.storage_priced);
        assert_eq!(serde_json::to_string(&c.hourly).unwrap(), "0.0123425");
    }

    #[test]
    fn seoul_and_storage() {
        let seoul = FargatePrices::for_region("ap-northeast-2").unwrap();
        // 0.5 × 0.04656 + 1 × 0.00511 = 0.02839.
        let c = pod_cost(size(500, 1024), &ephemeral_storage(0).unwrap(), &seoul);
        assert_eq!(c.hourly.to_decimal_string(), "0.02839");
        assert_eq!(c.monthly.to_decimal_string(), "20.7247");
        // 115 GiB provisioned → 95 GiB billed; unknown Seoul storage price is flagged.
        let big = ephemeral_storage(100 * crate::sizing::GIB).unwrap();
        let c = pod_cost(size(500, 1024), &big, &seoul);
        assert!(!c.storage_priced);
        assert_eq!(c.hourly.to_decimal_string(), "0.02839");
        // us-east-1: 2 vCPU 4 GB + 95 GiB × 0.000111 = 0.08096 + 0.01778 + 0.010545.
        let us = FargatePrices::for_region("us-east-1").unwrap();
        let c = pod_cost(size(2000, 4096), &big, &us);
        assert_eq!(c.compute_hourly.to_decimal_string(), "0.09874");
        assert_eq!(c.storage_hourly.to_decimal_string(), "0.010545");
        assert_eq!(c.hourly.to_decimal_string(), "0.109285");
        assert!(FargatePrices::for_region("eu-west-1").is_none());
        let custom = FargatePrices::parse("eu-west-1", "0.04048", "0.004445", Some("0.000111")).unwrap();
        assert_eq!(custom.vcpu_hour, us.vcpu_hour);
        assert!(FargatePrices::parse("x", "cheap", "0", None).unwrap_err().contains("vCPU-hour"));
    }

    #[test]
    fn per_second_billing_with_a_minute_minimum() {
        assert_eq!(billed_seconds(0), 60);
        assert_eq!(billed_seconds(59_999), 60);
        assert_eq!(billed_seconds(60_001), 61);
        assert_eq!(billed_seconds(3_600_000), 3600);
        let hourly = Money::parse("0.0123425").unwrap();
        assert_eq!(cost_for(hourly, 3_600_000), hourly);
        // One minute: 0.0123425 / 60 = 0.000205708333… → rounded to the pico-dollar.
        assert_eq!(cost_for(hourly, 1_000).to_decimal_string(), "0.000205708333");
        assert_eq!(cost_for(hourly, 10_000), cost_for(hourly, 60_000));
    }
}
