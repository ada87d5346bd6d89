//! Numbers in words, for notes a person reads (and the CLI's tables).

/// `1 incident`, `3 incidents`.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// A duration in its two largest units: `42s`, `7m`, `1h 12m`, `3d 4h`,
/// or a single unit when it is whole: `5m`, `7d`.
pub fn duration(secs: f64) -> String {
    let s = secs.round() as i64;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h, m, s % 60) {
        (0, 0, 0, _) => format!("{s}s"),
        (0, 0, m, _) => format!("{m}m"),
        (0, h, 0, _) => format!("{h}h"),
        (0, h, m, _) => format!("{h}h {m}m"),
        (d, 0, _, _) => format!("{d}d"),
        (d, h, _, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(300.0), "5m");
        assert_eq!(duration(3_600.0), "1h");
        assert_eq!(duration(4_320.0), "1h 12m");
        assert_eq!(duration(604_800.0), "7d");
        assert_eq!(duration(273_600.0), "3d 4h");
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(count(1, "incident", "incidents"), "1 incident");
        assert_eq!(count(0, "incident", "incidents"), "0 incidents");
    }
}
