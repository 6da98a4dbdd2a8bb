//! Decimal numbers compared by value, so the codecs can tell exactly which
//! texts an f64 holds.
//!
//! Terraform parses a number literal such as `0.1` with 512 bits of
//! precision and sends it as the msgpack string "0.1", because no f64 equals
//! it. Answering with the f64 nearest 0.1 would be a different number to
//! Terraform ("Provider produced inconsistent result"). So a text becomes an
//! f64 only when the f64's exact value is that decimal; anything else stays
//! text (`Number::Big`).

use std::fmt;

/// A decimal in normal form: `0.DIGITS × 10^exponent`. Zero has no digits.
#[derive(Debug, PartialEq)]
pub(crate) struct Decimal {
    negative: bool,
    /// Significant digits, without leading or trailing zeros.
    digits: String,
    exponent: i64,
}

impl Decimal {
    /// `None` unless `text` is `[+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)?`.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
            Some((m, e)) => (m, Some(e)),
            None => (unsigned, None),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return None;
        }
        let exponent = match exponent {
            None => 0,
            Some(e) => {
                let magnitude = e.strip_prefix(['+', '-']).unwrap_or(e);
                if magnitude.is_empty() || !all_digits(magnitude) {
                    return None;
                }
                // Exponents beyond i64 saturate: no f64 comes near them.
                let value = magnitude.parse::<i64>().unwrap_or(i64::MAX);
                if e.starts_with('-') { -value } else { value }
            }
        };
        let all = format!("{int_part}{frac_part}");
        let significant = all.trim_start_matches('0');
        let leading_zeros = all.len() - significant.len();
        let digits = significant.trim_end_matches('0').to_string();
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        let point = int_part.len() as i64 - leading_zeros as i64;
        Some(Decimal {
            negative,
            digits,
            exponent: exponent.saturating_add(point),
        })
    }

    /// The exact value of a finite f64; `None` for infinities and NaN.
    pub(crate) fn of_f64(f: f64) -> Option<Decimal> {
        // An f64's exact decimal expansion has at most 767 significant
        // digits, and Rust formats with a given precision exactly.
        f.is_finite()
            .then(|| Decimal::parse(&format!("{f:.766e}")))
            .flatten()
    }

    /// Whether the f64 nearest this decimal is exactly it, and which.
    pub(crate) fn exact_f64(&self, text: &str) -> Option<f64> {
        if self.digits.len() > 767 {
            return None;
        }
        let f = text.parse::<f64>().ok()?;
        (Decimal::of_f64(f).as_ref() == Some(self)).then_some(f)
    }
}

/// The shortest text of the value: positional near 1, scientific otherwise.
/// Both are valid JSON numbers and read back by `Decimal::parse`.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.digits.is_empty() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let len = self.digits.len() as i64;
        let point = self.exponent;
        match point {
            1..=21 if point >= len => {
                write!(f, "{}{}", self.digits, "0".repeat((point - len) as usize))
            }
            1..=21 => {
                let (int, frac) = self.digits.split_at(point as usize);
                write!(f, "{int}.{frac}")
            }
            -5..=0 => write!(
                f,
                "0.{}{}",
                "0".repeat(point.unsigned_abs() as usize),
                self.digits
            ),
            _ => {
                let (first, rest) = self.digits.split_at(1);
                let dot = if rest.is_empty() { "" } else { "." };
                write!(f, "{first}{dot}{rest}e{}", point.saturating_sub(1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_and_text() {
        let cases = [
            ("0", "0"),
            ("-0.000", "0"),
            ("+15", "15"),
            ("1.50e1", "15"),
            ("0015.00", "15"),
            ("1e20", "100000000000000000000"),
            ("1e21", "1e21"),
            ("-12.5e-1", "-1.25"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("123.456e-10", "1.23456e-8"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e99999999999999999999", "1e9223372036854775806"),
        ];
        for (text, canonical) in cases {
            let decimal = Decimal::parse(text).expect(text);
            assert_eq!(decimal.to_string(), canonical, "{text}");
            assert_eq!(Decimal::parse(canonical), Some(decimal), "{text}");
        }
        for bad in [
            "", ".", "-", "e5", "1e", "1e+", "1.2.3", "0x1", "1_0", "inf", " 1",
        ] {
            assert_eq!(Decimal::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn exactness() {
        let exact = |text: &str| Decimal::parse(text).and_then(|d| d.exact_f64(text));
        assert_eq!(exact("1.5"), Some(1.5));
        assert_eq!(exact("0.125"), Some(0.125));
        assert_eq!(exact("1e20"), Some(1e20));
        assert_eq!(exact("0.1"), None);
        assert_eq!(exact("1e23"), None);
        assert_eq!(
            exact("0.1000000000000000055511151231257827021181583404541015625"),
            Some(0.1)
        );
        assert_eq!(exact("1e400"), None);
        assert_eq!(Decimal::of_f64(f64::INFINITY), None);
        let tiny = Decimal::of_f64(f64::from_bits(1)).expect("finite");
        assert_eq!(tiny.digits.len(), 751);
        assert_eq!(tiny.exact_f64(&tiny.to_string()), Some(f64::from_bits(1)));
    }
}
