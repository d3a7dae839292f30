//! What a local username may be. A leaf module, so configuration can check the first admin's
//! name without importing the domain.

pub const MAX_USERNAME_LEN: usize = 30;

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
