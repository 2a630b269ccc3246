//! Shell-style name patterns (`*` any run of characters, `?` one character), for resources and repositories.
//! Hand-written: the whole need is these two wildcards, not a glob crate's path semantics.

/// Whether `text` matches `pattern`, where `*` matches any run of characters and `?` any one character.
pub fn matches(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_like_shell_globs() {
        assert!(matches("acme/*", "acme/web"));
        assert!(matches("acme/web-?", "acme/web-1"));
        assert!(matches("*", "anything"));
        assert!(matches("a*b*c", "a-x-b-y-c"));
        assert!(!matches("acme/*", "other/web"));
        assert!(!matches("acme/web", "acme/web2"));
    }
}
