//! Simulated time: milliseconds since the start of the run, written and read as Go-style
//! durations (`30s`, `5m`, `1h30m`, `1.5h`, `250ms`).

/// Milliseconds since the start of the simulation.
pub type Millis = u64;

pub const SECOND: Millis = 1000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
/// The longest duration accepted (about 11 years): sums of simulated times never overflow.
pub const MAX_DURATION: Millis = 100_000 * HOUR;

/// The error text for a malformed duration.
pub fn duration_error(text: &str) -> String {
    format!("invalid duration {text:?}: expected a duration such as 30s, 5m, 1h30m or 250ms")
}

/// Parses a Go-style duration: one or more `<number><unit>` with units `h`, `m`, `s`, `ms`
/// (`1h30m`, `1.5h`, `90s`, `250ms`), or a bare `0`. Negative values are refused.
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let s = text.trim();
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(duration_error(text));
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: u128 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let number = &s[start..i];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') || number.matches('.').count() > 1 {
            return Err(duration_error(text));
        }
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit: u128 = match &s[unit_start..i] {
            "h" => HOUR as u128,
            "m" => MINUTE as u128,
            "s" => SECOND as u128,
            "ms" => 1,
            _ => return Err(duration_error(text)),
        };
        // Exact decimal arithmetic: `1.5h` is 5 400 000 ms, never a float rounding.
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.len() > 12 || frac_part.len() > 9 {
            return Err(duration_error(text));
        }
        let int: u128 = int_part.parse().map_err(|_| duration_error(text))?;
        let mut value = int * unit;
        if !frac_part.is_empty() {
            let frac: u128 = frac_part.parse().map_err(|_| duration_error(text))?;
            let scale = 10u128.pow(frac_part.len() as u32);
            let part = frac * unit;
            if !part.is_multiple_of(scale) {
                return Err(format!("invalid duration {text:?}: the smallest unit of simulated time is 1ms"));
            }
            value += part / scale;
        }
        total += value;
        if total > MAX_DURATION as u128 {
            return Err(format!("invalid duration {text:?}: longer than {}h", MAX_DURATION / HOUR));
        }
    }
    Ok(total as Millis)
}

/// Formats milliseconds compactly: `0s`, `250ms`, `30s`, `5m`, `1h30m`, `1h0m5s`, `1m30.5s`.
pub fn format_duration(ms: Millis) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < SECOND {
        return format!("{ms}ms");
    }
    let h = ms / HOUR;
    let m = (ms % HOUR) / MINUTE;
    let s = (ms % MINUTE) / SECOND;
    let frac = ms % SECOND;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    let has_seconds = s > 0 || frac > 0;
    if m > 0 || (h > 0 && has_seconds) {
        out.push_str(&format!("{m}m"));
    }
    if has_seconds {
        if frac == 0 {
            out.push_str(&format!("{s}s"));
        } else {
            let f = format!("{frac:03}");
            out.push_str(&format!("{s}.{}s", f.trim_end_matches('0')));
        }
    }
    out
}

/// Seconds as a JSON number (exact for whole milliseconds).
pub fn seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse_duration("30s"), Ok(30_000));
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("1m0.5s"), Ok(60_500));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("0s"), Ok(0));
        for bad in
            ["", "5", "5 min", "-5s", "1d", "h", "1.s", ".5s", "1..5s", "5m3", "0.0001s", "100001h", "99999999999999h"]
        {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            parse_duration("5 min").unwrap_err(),
            "invalid duration \"5 min\": expected a duration such as 30s, 5m, 1h30m or 250ms"
        );
    }

    #[test]
    fn formats_compactly_and_round_trips() {
        let cases = [
            (0, "0s"),
            (250, "250ms"),
            (30_000, "30s"),
            (300_000, "5m"),
            (5_400_000, "1h30m"),
            (3_605_000, "1h0m5s"),
            (90_500, "1m30.5s"),
            (7_200_000, "2h"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_duration(ms), text);
            assert_eq!(parse_duration(text), Ok(ms));
        }
    }
}
