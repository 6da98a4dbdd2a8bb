//! Text an outsider chose (a token's `kid`, a claim, a header), made safe
//! to store and print: control characters replaced, length cut. Anyone
//! can send such text without authenticating, so it must neither grow the
//! store nor rewrite an operator's terminal.

/// The marker that stands for a removed control character.
const REPLACED: char = '\u{fffd}';

/// `text` with each control character (C0, DEL, C1: ESC, CSI, OSC and the
/// like) replaced by U+FFFD and cut to `max_chars` characters, the last of
/// which is then `…`.
pub fn bounded(text: &str, max_chars: usize) -> String {
    let cut = text.chars().nth(max_chars).is_some();
    let keep = if cut {
        max_chars.saturating_sub(1)
    } else {
        max_chars
    };
    let mut out: String = text
        .chars()
        .take(keep)
        .map(|c| if c.is_control() { REPLACED } else { c })
        .collect();
    if cut && max_chars > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced_and_length_is_cut() {
        assert_eq!(bounded("plain", 10), "plain");
        assert_eq!(
            bounded("a\u{1b}[2Jb\u{9b}c\u{7}", 10),
            "a\u{fffd}[2Jb\u{fffd}c\u{fffd}"
        );
        assert_eq!(bounded("abcdef", 4), "abc…");
        assert_eq!(bounded("abcd", 4), "abcd");
        assert_eq!(bounded("ééééé", 3).chars().count(), 3);
        assert_eq!(bounded("x", 0), "");
    }
}
