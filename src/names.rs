//! What a local username and a hashtag may be. A leaf module, so configuration can check the
//! first admin's name, and convert a peer's hashtags, without importing the domain.

pub const MAX_USERNAME_LEN: usize = 30;
pub const MAX_HASHTAG_LEN: usize = 100;

/// A hashtag name (a leading `#` allowed and dropped) as statuses' hashtags are recognised:
/// letters, digits and underscore, not only digits, at most 100 characters.
pub fn hashtag(name: &str) -> Option<&str> {
    let name = name.strip_prefix('#').unwrap_or(name);
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_HASHTAG_LEN
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit());
    ok.then_some(name)
}

/// Letters, digits and underscore, 1 to 30 of them: what fits in `acct:NAME@DOMAIN` and in
/// every Mastodon app's mention parser. The error is a sentence safe to show.
pub fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("username must not be empty".into());
    }
    if name.chars().count() > MAX_USERNAME_LEN {
        return Err(format!(
            "username must be at most {MAX_USERNAME_LEN} characters"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "username may contain only letters, digits and underscore, not {bad:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags() {
        assert_eq!(hashtag("#Rust"), Some("Rust"));
        assert_eq!(hashtag("kubernetes_2"), Some("kubernetes_2"));
        assert_eq!(hashtag("Zoë"), Some("Zoë"));
        for bad in [
            "",
            "#",
            "##x",
            "2026",
            "two words",
            "c++",
            "a-b",
            &"x".repeat(101),
        ] {
            assert_eq!(hashtag(bad), None, "{bad:?}");
        }
    }
}
