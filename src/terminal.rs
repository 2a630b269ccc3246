//! Text from a bundle made safe to print on a terminal: control characters (ANSI escapes, carriage returns, line
//! breaks) and the Unicode controls that reorder or hide text are shown escaped, so a hostile organisation name or
//! path cannot clear the screen, rewrite a line or forge a "verified".

/// `text` with every control or bidirectional-formatting character written as `\u{…}`.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Multi-line text (an error and its causes) with every unsafe character escaped except its line breaks and tabs.
pub fn escaped_lines(text: &str) -> String {
    text.split('\n').map(|line| escaped(line).replace("\\u{9}", "\t")).collect::<Vec<_>>().join("\n")
}

/// Whether a character can move the cursor, change the terminal's state or reorder what is shown.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_line_breaks_are_shown_not_obeyed() {
        assert_eq!(escaped("acme\u{1b}[2J\nverified"), "acme\\u{1b}[2J\\u{a}verified");
        assert_eq!(escaped("a\u{202e}b\r"), "a\\u{202e}b\\u{d}");
        assert_eq!(escaped("Ünïcode ok/π"), "Ünïcode ok/π");
        assert_eq!(escaped_lines("a\n\tb\u{1b}[31m"), "a\n\tb\\u{1b}[31m");
    }
}
