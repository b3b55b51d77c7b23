//! Disruption-budget schedules: standard five-field cron in UTC, and "is the budget active now".
//!
//! Karpenter parses `spec.disruption.budgets[].schedule` with robfig/cron's standard parser
//! (`TZ=UTC` prepended) and a budget with a schedule is active when the schedule fired within
//! the last `duration`: `Next(now − duration) ≤ now` (`pkg/apis/v1/nodepool.go Budget.IsActive`,
//! doc §1.1, §4.3). Supported: `*`, `?`, numbers, `a-b`, `*/n`, `a-b/n`, `a/n`, lists, month and
//! weekday names, and the descriptors `@yearly @annually @monthly @weekly @daily @midnight
//! @hourly`. When both day-of-month and day-of-week are restricted, either may match (cron's
//! classic rule, as robfig implements it).

/// A parsed schedule: one bit set per allowed value of each field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    dom_star: bool,
    dow_star: bool,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn parse_value(s: &str, names: &[&str], name_base: u32) -> Option<u32> {
    if let Ok(v) = s.parse::<u32>() {
        return Some(v);
    }
    let lower = s.to_ascii_lowercase();
    names.iter().position(|n| *n == lower).map(|i| i as u32 + name_base)
}

/// Parses one field into a bit mask over `min..=max`; also reports whether it was `*`/`?`.
fn parse_field(field: &str, min: u32, max: u32, names: &[&str], name_base: u32) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| format!("invalid step {s:?}"))?;
                if step == 0 {
                    return Err("step of 0".into());
                }
                (r, Some(step))
            }
            None => (part, None),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            if step.is_none() {
                star = true;
            }
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let a = parse_value(a, names, name_base).ok_or_else(|| format!("invalid value {a:?}"))?;
            let b = parse_value(b, names, name_base).ok_or_else(|| format!("invalid value {b:?}"))?;
            (a, b)
        } else {
            let a = parse_value(range, names, name_base).ok_or_else(|| format!("invalid value {range:?}"))?;
            (a, if step.is_some() { max } else { a })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!("{range:?} is outside {min}-{max}"));
        }
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses a standard cron expression or descriptor. The error says what is wrong.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = expr.trim();
        let expanded = match expr {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other if other.starts_with('@') => return Err(format!("unrecognized descriptor {other:?}")),
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!("expected exactly 5 fields, found {}: {expr:?}", fields.len()));
        }
        let (minutes, _) = parse_field(fields[0], 0, 59, &[], 0)?;
        let (hours, _) = parse_field(fields[1], 0, 23, &[], 0)?;
        let (dom, dom_star) = parse_field(fields[2], 1, 31, &[], 0)?;
        let (months, _) = parse_field(fields[3], 1, 12, &MONTHS, 1)?;
        let (mut dow, dow_star) = parse_field(fields[4], 0, 7, &DAYS, 0)?;
        if dow & (1 << 7) != 0 {
            dow = (dow | 1) & 0x7f; // 7 is Sunday too
        }
        Ok(Schedule {
            minutes,
            hours: hours as u32,
            days_of_month: dom as u32,
            months: months as u16,
            days_of_week: dow as u8,
            dom_star,
            dow_star,
        })
    }

    /// Whether the schedule fires at the minute starting at Unix time `t` (UTC; `t` is taken
    /// down to its minute).
    pub fn fires_at(&self, t: i64) -> bool {
        let days = t.div_euclid(86_400);
        let secs = t.rem_euclid(86_400);
        let (minute, hour) = ((secs / 60) % 60, secs / 3_600);
        let (_, month, day) = civil_from_days(days);
        let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday
        if self.minutes & (1 << minute) == 0 || self.hours & (1 << hour) == 0 || self.months & (1 << month) == 0 {
            return false;
        }
        let dom = self.days_of_month & (1 << day) != 0;
        let dow = self.days_of_week & (1 << weekday) != 0;
        if self.dom_star || self.dow_star { dom && dow } else { dom || dow }
    }

    /// Karpenter's `Budget.IsActive`: the schedule fired in `(now − duration, now]`.
    pub fn active(&self, now: i64, duration_seconds: i64) -> bool {
        let start = now - duration_seconds;
        // First whole minute strictly after `start`.
        let mut m = start.div_euclid(60) * 60 + 60;
        while m <= now {
            if self.fires_at(m) {
                return true;
            }
            m += 60;
        }
        false
    }
}

/// Howard Hinnant's `civil_from_days`: (year, month 1..=12, day 1..=31) of a day count since
/// 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-06-03 (a Monday) 09:00:00 UTC.
    const MON_0900: i64 = 1_717_405_200;

    #[test]
    fn calendar_conversion() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(MON_0900 / 86_400), (2024, 6, 3));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn weekday_business_hours_budget() {
        // "No disruption 9:00-17:00 on weekdays": schedule 0 9 * * mon-fri, duration 8h.
        let s = Schedule::parse("0 9 * * mon-fri").unwrap();
        assert!(s.fires_at(MON_0900));
        assert!(s.active(MON_0900, 8 * 3_600));
        assert!(s.active(MON_0900 + 8 * 3_600 - 1, 8 * 3_600));
        assert!(!s.active(MON_0900 + 8 * 3_600, 8 * 3_600), "the window is (now-d, now]");
        assert!(!s.active(MON_0900 - 60, 8 * 3_600));
        // Saturday 2024-06-08 09:30.
        assert!(!s.active(MON_0900 + 5 * 86_400 + 1_800, 8 * 3_600));
    }

    #[test]
    fn descriptors_steps_lists_and_errors() {
        let daily = Schedule::parse("@daily").unwrap();
        assert!(daily.fires_at(MON_0900 - 9 * 3_600));
        assert!(!daily.fires_at(MON_0900));
        let every15 = Schedule::parse("*/15 * * * *").unwrap();
        assert!(every15.fires_at(MON_0900 + 45 * 60));
        assert!(!every15.fires_at(MON_0900 + 50 * 60));
        let list = Schedule::parse("0 9,17 * JAN,jun 7").unwrap();
        assert!(!list.fires_at(MON_0900), "Sunday only (7 = Sunday)");
        assert!(list.fires_at(MON_0900 - 86_400), "Sunday 2024-06-02 09:00");
        // Both day fields restricted: either matches.
        let either = Schedule::parse("0 9 15 * mon").unwrap();
        assert!(either.fires_at(MON_0900));
        assert!(Schedule::parse("0 9 * *").is_err());
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("*/0 * * * *").is_err());
        assert!(Schedule::parse("@every 5m").is_err());
    }
}
