//! LDAP (OpenLDAP, Active Directory) with the `ldap3` crate: a login searches the user with
//! the search account (`bind_dn`), then checks the password by binding as the entry found.
//! Every value put into a filter is escaped (RFC 4515), so a login name such as `*)(uid=*`
//! matches nobody instead of everybody.

use std::collections::HashMap;
use std::time::Duration;

use ldap3::{ldap_escape, Ldap as Conn, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use super::{Person, Provider, SsoError};
use crate::config::LdapConfig;
use crate::domain::DomainError;

pub struct Ldap {
    config: LdapConfig,
    /// TLS with the company CA (`ldap.ca_file`) or without checks (`ldap.tls_insecure`).
    connector: Option<native_tls::TlsConnector>,
}

/// What a directory said about a login.
#[derive(Debug)]
pub enum Verdict {
    /// The password is right: the person.
    Valid(Box<Person>),
    /// No entry with that login name.
    NoSuchUser,
    /// The entry exists; the password is wrong.
    WrongPassword,
}

/// What the sync found for one identity.
#[derive(Debug)]
pub enum Found {
    Present(Box<Person>),
    Gone,
}

fn unavailable(e: impl std::fmt::Display) -> SsoError {
    tracing::warn!(error = %e, "the LDAP directory cannot be reached or failed");
    SsoError::Unavailable(
        "The company directory cannot be reached. Try again later; if it persists, tell your \
         admins."
            .into(),
    )
}

/// `template` with `{name}` replaced by `value`, escaped for a filter.
pub fn fill(template: &str, name: &str, value: &str) -> String {
    template.replace(&format!("{{{name}}}"), &ldap_escape(value))
}

/// A binary value (Active Directory's `objectGUID`) as a filter literal: every byte `\xx`.
fn escape_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn first(attrs: &HashMap<String, Vec<String>>, name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first().cloned())
}

impl Ldap {
    pub fn new(config: &LdapConfig) -> Result<Ldap, DomainError> {
        let connector = match &config.ca_file {
            None => None,
            Some(path) => {
                let fail = |e: &dyn std::fmt::Display| {
                    DomainError::Invalid(format!("ldap.ca_file {}: {e}", path.display()))
                };
                let pem = std::fs::read(path).map_err(|e| fail(&e))?;
                let ca = native_tls::Certificate::from_pem(&pem).map_err(|e| fail(&e))?;
                let connector = native_tls::TlsConnector::builder()
                    .add_root_certificate(ca)
                    .danger_accept_invalid_certs(config.tls_insecure)
                    .build()
                    .map_err(|e| fail(&e))?;
                Some(connector)
            }
        };
        Ok(Ldap {
            config: config.clone(),
            connector,
        })
    }

    fn settings(&self) -> LdapConnSettings {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout())
            .set_starttls(self.config.starttls)
            .set_no_tls_verify(self.config.tls_insecure);
        match &self.connector {
            Some(c) => settings.set_connector(c.clone()),
            None => settings,
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_seconds)
    }

    /// A connection bound as the search account (or anonymous without one).
    async fn connect(&self) -> Result<Conn, SsoError> {
        let (conn, mut ldap) = LdapConnAsync::with_settings(self.settings(), &self.config.url)
            .await
            .map_err(unavailable)?;
        ldap3::drive!(conn);
        if !self.config.bind_dn.is_empty() {
            ldap.with_timeout(self.timeout())
                .simple_bind(&self.config.bind_dn, &self.config.bind_password)
                .await
                .and_then(|r| r.success())
                .map_err(unavailable)?;
        }
        Ok(ldap)
    }

    fn attributes(&self) -> Vec<String> {
        let c = &self.config;
        let mut a = vec![
            c.username_attribute.clone(),
            c.display_name_attribute.clone(),
            c.email_attribute.clone(),
            "memberOf".to_string(),
        ];
        if !c.uuid_attribute.is_empty() {
            a.push(c.uuid_attribute.clone());
        }
        a.retain(|s| !s.is_empty());
        a
    }

    async fn search(
        &self,
        ldap: &mut Conn,
        base: &str,
        scope: Scope,
        filter: &str,
    ) -> Result<Vec<SearchEntry>, SsoError> {
        let (entries, _) = ldap
            .with_timeout(self.timeout())
            .search(base, scope, filter, self.attributes())
            .await
            .and_then(|r| r.success())
            .map_err(unavailable)?;
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    /// The entry's groups: searched under `group_base`, or its `memberOf` values.
    async fn groups(&self, ldap: &mut Conn, entry: &SearchEntry) -> Result<Vec<String>, SsoError> {
        let c = &self.config;
        if c.group_base.is_empty() {
            return Ok(entry
                .attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("memberOf"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default());
        }
        let filter = fill(&c.group_filter, "dn", &entry.dn);
        let (entries, _) = ldap
            .with_timeout(self.timeout())
            .search(
                &c.group_base,
                Scope::Subtree,
                &filter,
                vec![c.group_name_attribute.as_str()],
            )
            .await
            .and_then(|r| r.success())
            .map_err(unavailable)?;
        let mut groups = Vec::new();
        for e in entries.into_iter().map(SearchEntry::construct) {
            groups.push(e.dn.clone());
            if let Some(name) = first(&e.attrs, &c.group_name_attribute) {
                groups.push(name);
            }
        }
        Ok(groups)
    }

    async fn person(&self, ldap: &mut Conn, entry: &SearchEntry) -> Result<Person, SsoError> {
        let c = &self.config;
        let subject = if c.uuid_attribute.is_empty() {
            entry.dn.to_lowercase()
        } else if let Some(v) = first(&entry.attrs, &c.uuid_attribute) {
            v.to_lowercase()
        } else if let Some((_, v)) = entry
            .bin_attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&c.uuid_attribute))
        {
            v.first().map(|b| hex(b)).unwrap_or_default()
        } else {
            return Err(unavailable(format!(
                "entry {} has no {} attribute (ldap.uuid_attribute)",
                entry.dn, c.uuid_attribute
            )));
        };
        Ok(Person {
            provider: Provider::Ldap,
            issuer: "ldap".into(),
            subject,
            login: first(&entry.attrs, &c.username_attribute).unwrap_or_default(),
            display_name: first(&entry.attrs, &c.display_name_attribute)
                .unwrap_or_default()
                .chars()
                .take(30)
                .collect(),
            email: first(&entry.attrs, &c.email_attribute),
            groups: self.groups(ldap, entry).await?,
        })
    }

    /// Checks a login: finds the entry by the (escaped) login name, then binds as it with the
    /// password. The caller refuses empty passwords first (an empty one binds anonymously).
    pub async fn authenticate(&self, login: &str, password: &str) -> Result<Verdict, SsoError> {
        let mut ldap = self.connect().await?;
        let filter = fill(&self.config.user_filter, "username", login);
        let mut entries = self
            .search(&mut ldap, &self.config.user_base, Scope::Subtree, &filter)
            .await?;
        if entries.len() != 1 {
            if entries.len() > 1 {
                tracing::warn!(
                    login,
                    found = entries.len(),
                    "LDAP login matches several entries; refused"
                );
            }
            let _ = ldap.unbind().await;
            return Ok(Verdict::NoSuchUser);
        }
        let entry = entries.remove(0);
        // The user's own bind checks the password (and the directory's own lockout rules).
        let mut user = {
            let (conn, user) = LdapConnAsync::with_settings(self.settings(), &self.config.url)
                .await
                .map_err(unavailable)?;
            ldap3::drive!(conn);
            user
        };
        let bound = user
            .with_timeout(self.timeout())
            .simple_bind(&entry.dn, password)
            .await
            .map_err(unavailable)?;
        let _ = user.unbind().await;
        // 49: invalidCredentials (also what a disabled or locked account gets).
        if bound.rc == 49 {
            let _ = ldap.unbind().await;
            return Ok(Verdict::WrongPassword);
        }
        bound.success().map_err(unavailable)?;
        let person = self.person(&mut ldap, &entry).await;
        let _ = ldap.unbind().await;
        Ok(Verdict::Valid(Box::new(person?)))
    }

    /// Looks identities up again for the sync, on one connection: each is `Present` (with what
    /// the directory says now) or `Gone` (not found by its stable id under `sync_filter`).
    pub async fn lookup(&self, subjects: &[String]) -> Result<Vec<Found>, SsoError> {
        let c = &self.config;
        let mut ldap = self.connect().await?;
        let mut out = Vec::with_capacity(subjects.len());
        for subject in subjects {
            let entries = if c.uuid_attribute.is_empty() {
                // Linked by DN: read that entry, still matching the sync filter.
                let result = ldap
                    .with_timeout(self.timeout())
                    .search(subject, Scope::Base, &c.sync_filter, self.attributes())
                    .await
                    .map_err(unavailable)?;
                // 32: noSuchObject, the entry is gone. Any other error retires nobody.
                if result.1.rc == 32 {
                    vec![]
                } else {
                    let (entries, _) = result.success().map_err(unavailable)?;
                    entries.into_iter().map(SearchEntry::construct).collect()
                }
            } else {
                let value = if c.uuid_attribute.eq_ignore_ascii_case("objectGUID") {
                    let bytes: Vec<u8> = (0..subject.len() / 2)
                        .filter_map(|i| u8::from_str_radix(&subject[2 * i..2 * i + 2], 16).ok())
                        .collect();
                    escape_bytes(&bytes)
                } else {
                    ldap_escape(subject.as_str()).into_owned()
                };
                let filter = format!("(&{}({}={value}))", c.sync_filter, c.uuid_attribute);
                self.search(&mut ldap, &c.user_base, Scope::Subtree, &filter)
                    .await?
            };
            out.push(match entries.first() {
                Some(entry) => Found::Present(Box::new(self.person(&mut ldap, entry).await?)),
                None => Found::Gone,
            });
        }
        let _ = ldap.unbind().await;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_escaped() {
        let t = "(&(objectClass=inetOrgPerson)(uid={username}))";
        assert_eq!(
            fill(t, "username", "ada"),
            "(&(objectClass=inetOrgPerson)(uid=ada))"
        );
        assert_eq!(
            fill(t, "username", "*)(uid=*"),
            "(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid=\\2a))"
        );
        assert_eq!(
            fill("(uid={username})", "username", "a\0b\\"),
            "(uid=a\\00b\\5c)"
        );
        assert_eq!(
            fill("(member={dn})", "dn", "cn=x (y),dc=hq"),
            "(member=cn=x \\28y\\29,dc=hq)"
        );
        assert_eq!(escape_bytes(&[0x01, 0xab]), "\\01\\ab");
    }
}
