//! Durations as the Karpenter CRDs write them, in whole seconds.
//!
//! NodePool fields use Go's `time.Duration` text restricted by CRD patterns (doc §1.1):
//! `expireAfter` and `consolidateAfter` match `^(([0-9]+(s|m|h))+|Never)$`,
//! `terminationGracePeriod` `^([0-9]+(s|m|h))+$`, budget `duration`
//! `^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$`. EKS prints durations back as `24h0m0s`, which
//! the first two patterns accept.

/// A duration that may be `Never`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum MaybeNever {
    After(i64),
    Never,
}

impl MaybeNever {
    pub fn seconds(self) -> Option<i64> {
        match self {
            MaybeNever::After(s) => Some(s),
            MaybeNever::Never => None,
        }
    }
}

/// Parses `([0-9]+(s|m|h))+` into seconds. `None` on anything else (including overflow).
pub fn parse_hms(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => {
                num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add((b - b'0') as i64)?);
            }
            b's' | b'm' | b'h' => {
                let n = num.take()?;
                let unit = match b {
                    b's' => 1,
                    b'm' => 60,
                    _ => 3_600,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
            }
            _ => return None,
        }
    }
    if num.is_some() {
        return None;
    }
    Some(total)
}

/// `expireAfter` / `consolidateAfter`: `Never` or `([0-9]+(s|m|h))+`.
pub fn parse_maybe_never(s: &str) -> Option<MaybeNever> {
    if s == "Never" {
        return Some(MaybeNever::Never);
    }
    parse_hms(s).map(MaybeNever::After)
}

/// A budget `duration`: `Nh`, `Nm`, or `NhMm`, optionally followed by `0s`.
pub fn parse_budget_duration(s: &str) -> Option<i64> {
    let core = s.strip_suffix("0s").filter(|c| !c.is_empty()).unwrap_or(s);
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let valid = match core.split_once('h') {
        Some((h, rest)) => digits(h) && (rest.is_empty() || rest.strip_suffix('m').is_some_and(digits)),
        None => core.strip_suffix('m').is_some_and(digits),
    };
    if !valid {
        return None;
    }
    parse_hms(core)
}

/// Renders seconds the way Go's `Duration.String` does for whole seconds (`336h0m0s`, `30s`).
pub fn format_go(seconds: i64) -> String {
    if seconds == 0 {
        return "0s".into();
    }
    let (h, m, s) = (seconds / 3_600, (seconds % 3_600) / 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_durations() {
        assert_eq!(parse_hms("720h"), Some(2_592_000));
        assert_eq!(parse_hms("24h0m0s"), Some(86_400));
        assert_eq!(parse_hms("1h30m"), Some(5_400));
        assert_eq!(parse_hms("30s"), Some(30));
        assert_eq!(parse_hms("30"), None);
        assert_eq!(parse_hms("1d"), None);
        assert_eq!(parse_hms("h"), None);
        assert_eq!(parse_hms(""), None);
        assert_eq!(parse_hms("99999999999999999999h"), None);
        assert_eq!(parse_maybe_never("Never"), Some(MaybeNever::Never));
        assert_eq!(parse_maybe_never("0s"), Some(MaybeNever::After(0)));
        assert_eq!(parse_maybe_never("never"), None);
    }

    #[test]
    fn budget_durations_follow_the_crd_pattern() {
        assert_eq!(parse_budget_duration("8h"), Some(28_800));
        assert_eq!(parse_budget_duration("30m"), Some(1_800));
        assert_eq!(parse_budget_duration("1h30m"), Some(5_400));
        assert_eq!(parse_budget_duration("1h30m0s"), Some(5_400));
        assert_eq!(parse_budget_duration("10s"), None);
        assert_eq!(parse_budget_duration("1m30h"), None);
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go(336 * 3_600), "336h0m0s");
        assert_eq!(format_go(30), "30s");
        assert_eq!(format_go(90), "1m30s");
        assert_eq!(format_go(0), "0s");
    }
}
