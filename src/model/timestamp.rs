//! How deputy writes instants: RFC 3339 in UTC with microseconds. Fixed
//! width, so timestamps sort as text and compare correctly in SQL on both
//! stores and in clients.

use time::OffsetDateTime;

pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        ))
        .expect("formattable time")
}

pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// An RFC 3339 instant, as stored and sent (`None` when it is not one).
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// A Unix time (seconds), as STS reports expirations.
pub fn from_unix(seconds: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .map(format)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_width_utc() {
        assert_eq!(super::from_unix(0).unwrap(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(super::now().len(), 27);
    }
}
