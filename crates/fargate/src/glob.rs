//! Fargate profile wildcards (doc §1.3, added 2022-08-16): `*` matches zero or more characters,
//! `?` exactly one, anywhere and in any combination, in namespaces, label keys and label values.
//! Nothing else is special: no character classes, no escapes, no regular expressions.

/// True when `text` matches `pattern` as a whole.
///
/// Linear-time greedy matching with a single backtrack point (the last `*`), on characters
/// rather than bytes so that `?` consumes one character of a non-ASCII value.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` seen in the pattern and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` swallow one more character and retry.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// True when `s` contains a wildcard character.
pub fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_guide_examples() {
        // UG/profile examples quoted in doc §1.3.
        assert!(glob_match("prod*", "prod"));
        assert!(glob_match("prod*", "prod-metrics"));
        assert!(!glob_match("prod*", "pro"));
        assert!(glob_match("value?", "valuea"));
        assert!(!glob_match("value?", "value"));
        assert!(!glob_match("value?", "value-a"));
        assert!(glob_match("*dev", "team-dev"));
        assert!(glob_match("*dev", "dev"));
        assert!(!glob_match("*dev", "dev-team"));
        assert!(glob_match("frontend*?", "frontend1"));
        assert!(glob_match("frontend*?", "frontend-web"));
        assert!(!glob_match("frontend*?", "frontend"));
        assert!(glob_match("key?", "keya"));
        assert!(glob_match("key?", "keyb"));
    }

    #[test]
    fn literal_and_edge_cases() {
        assert!(glob_match("default", "default"));
        assert!(!glob_match("default", "defaults"));
        assert!(!glob_match("default", "Default"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "x"));
        assert!(!glob_match("?", ""));
        assert!(glob_match("a*b*c", "a-x-b-y-c"));
        assert!(!glob_match("a*b*c", "a-x-c-y-b"));
        assert!(glob_match("**a", "bbba"));
        assert!(glob_match("a*", "a"));
        // Regex metacharacters are literal.
        assert!(glob_match("a.b", "a.b"));
        assert!(!glob_match("a.b", "axb"));
        assert!(glob_match("[x]", "[x]"));
        // `?` is one character, not one byte.
        assert!(glob_match("caf?", "café"));
    }

    #[test]
    fn backtracking_is_correct() {
        assert!(glob_match("*aab", "aaab"));
        assert!(glob_match("*a?b", "xxacb"));
        assert!(!glob_match("*a?b", "xxab"));
        assert!(glob_match("kube-*-?", "kube-system-a"));
    }

    #[test]
    fn wildcard_detection() {
        assert!(has_wildcard("prod*"));
        assert!(has_wildcard("v?"));
        assert!(!has_wildcard("kube-system"));
    }
}
