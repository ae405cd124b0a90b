//! Timestamps of audit events: RFC 3339 text (`2026-12-01T10:00:00.123456Z`, or with an offset)
//! turned into microseconds since the Unix epoch, and `--since` values (a duration back from now
//! such as `7d`, or a date or date-time). Pure: "now" is passed in.

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &[u8], from: usize, n: usize) -> Option<i64> {
    let part = s.get(from..from + n)?;
    part.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Parses an RFC 3339 date-time (`T` or space between date and time, `Z` or `±HH:MM`, any
/// fraction of a second), or a bare date (`2026-12-01`, midnight UTC).
pub fn parse_timestamp(text: &str) -> Option<Micros> {
    let s = text.trim().as_bytes();
    let (year, month, day) = (digits(s, 0, 4)?, digits(s, 5, 2)?, digits(s, 8, 2)?);
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return None;
    }
    if !(1..=31).contains(&day) {
        return None;
    }
    let date = days_from_civil(year, month, day) * 86_400_000_000;
    if s.len() == 10 {
        return Some(date);
    }
    if !matches!(s.get(10), Some(b'T' | b't' | b' ')) || s.get(13) != Some(&b':') {
        return None;
    }
    let (h, mi) = (digits(s, 11, 2)?, digits(s, 14, 2)?);
    if s.get(16) != Some(&b':') {
        return None;
    }
    let sec = digits(s, 17, 2)?;
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 6 {
                micros = micros * 10 + i64::from(s[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..6 {
            micros *= 10;
        }
    }
    let offset = match s.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let oh = digits(rest, 0, 2)?;
            let om = digits(rest, 3, 2)?;
            let off = (oh * 60 + om) * 60_000_000;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    Some(date + ((h * 60 + mi) * 60 + sec) * 1_000_000 + micros - offset)
}

/// Parses a `--since` value: a duration back from `now` (`30m`, `24h`, `7d`, `2w`; `s`, `m`,
/// `h`, `d`, `w`), a date (`2026-12-01`) or an RFC 3339 date-time.
pub fn parse_since(text: &str, now: Micros) -> Result<Micros, String> {
    let t = text.trim();
    if let Some(unit) = t.chars().last().filter(|c| "smhdw".contains(*c))
        && let Ok(n) = t[..t.len() - 1].parse::<i64>()
    {
        let secs = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => 7 * 86_400,
        };
        return n
            .checked_mul(secs * 1_000_000)
            .and_then(|d| now.checked_sub(d))
            .ok_or_else(|| format!("--since {t:?} is too far back"));
    }
    parse_timestamp(t).ok_or_else(|| {
        format!(
            "--since {t:?} is neither a duration (30m, 24h, 7d, 2w) nor a date (2026-12-01) or \
             RFC 3339 time (2026-12-01T10:00:00Z)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let table: &[(&str, Option<Micros>)] = &[
            ("1970-01-01T00:00:00Z", Some(0)),
            ("1970-01-01", Some(0)),
            ("1970-01-01T00:00:01.5Z", Some(1_500_000)),
            ("2026-12-01T10:00:00.123456Z", Some(1_796_119_200_123_456)),
            ("2026-12-01T10:00:00.1234567Z", Some(1_796_119_200_123_456)),
            ("2026-12-01T12:00:00+02:00", Some(1_796_119_200_000_000)),
            ("2026-12-01T08:00:00-02:00", Some(1_796_119_200_000_000)),
            ("2000-02-29T00:00:00Z", Some(951_782_400_000_000)),
            ("2026-13-01T00:00:00Z", None),
            ("2026-12-01T25:00:00Z", None),
            ("2026-12-01T10:00:00", None),
            ("2026-12-01T10:00:00.Z", None),
            ("yesterday", None),
            ("", None),
        ];
        for (text, want) in table {
            assert_eq!(parse_timestamp(text), *want, "{text}");
        }
    }

    #[test]
    fn since_values() {
        let now = 1_796_119_200_000_000;
        assert_eq!(parse_since("7d", now), Ok(now - 7 * 86_400_000_000));
        assert_eq!(parse_since("30m", now), Ok(now - 1_800_000_000));
        assert_eq!(parse_since("2w", now), Ok(now - 14 * 86_400_000_000));
        assert_eq!(parse_since("1970-01-01", now), Ok(0));
        assert!(parse_since("last week", now).unwrap_err().contains("7d"));
    }
}
