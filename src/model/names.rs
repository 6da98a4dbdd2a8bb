//! Names and labels: the free-form parts of stacks and
//! integrations. Free-form, but not anything: a value the broker would
//! store differently from what was sent (trimmed, say) makes Terraform
//! report an inconsistent result and replace the object, so such values are
//! refused instead of silently changed.

use super::Invalid;

const MAX_NAME: usize = 128;
const MAX_LABEL_KEY: usize = 128;
const MAX_LABEL_VALUE: usize = 256;

/// 1 to 128 characters, no surrounding
/// whitespace, no control characters.
fn check_text(what: &str, s: &str) -> Result<(), Invalid> {
    let len = s.chars().count();
    if len == 0 || len > MAX_NAME {
        return Err(Invalid::new(format!(
            "{what} {s:?} has {len} characters: use 1 to {MAX_NAME}"
        )));
    }
    if s.trim() != s {
        return Err(Invalid::new(format!(
            "{what} {s:?} starts or ends with whitespace: remove it (use {:?})",
            s.trim()
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(format!(
            "{what} {s:?} contains a control character: use printable characters"
        )));
    }
    Ok(())
}

checked_text!(
    /// A display name: an integration's (unique, how people and data
    /// sources find it) or a stack's.
    Name,
    check_text,
    "name"
);

/// Label keys are 1 to 128 characters without `=` (a filter reads
/// `key=value`, split at the first `=`) or surrounding whitespace; values
/// are up to 256 characters.
pub fn check_labels<'a>(
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), Invalid> {
    for (key, value) in labels {
        let len = key.chars().count();
        if len == 0 || len > MAX_LABEL_KEY || key.trim() != key || key.contains('=') {
            return Err(Invalid::new(format!(
                "label key {key:?} is not valid: use 1 to {MAX_LABEL_KEY} characters without '=' and \
                 without surrounding whitespace"
            )));
        }
        if value.chars().count() > MAX_LABEL_VALUE {
            return Err(Invalid::new(format!(
                "the value of label {key:?} is longer than {MAX_LABEL_VALUE} characters"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_as_sent_or_refused() {
        assert_eq!(
            "payments role".parse::<Name>().unwrap().as_str(),
            "payments role"
        );
        for (bad, why) in [
            (" padded-name ", "starts or ends with whitespace"),
            ("", "has 0 characters"),
            ("a\tb", "control character"),
        ] {
            let e = bad.parse::<Name>().unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!("x".repeat(129).parse::<Name>().is_err());
    }

    #[test]
    fn labels() {
        assert!(check_labels([("team", "net, ops = 1 & 2")]).is_ok());
        for key in ["", " team", "a=b"] {
            assert!(check_labels([(key, "v")]).is_err(), "{key:?}");
        }
        let long = "v".repeat(257);
        assert!(check_labels([("k", long.as_str())]).is_err());
    }
}
