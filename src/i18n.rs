//! The console's and the login pages' languages: Fluent message catalogues under `locales/`
//! (one folder per language, `console.ftl`), chosen from the page's switch (a cookie), else the
//! browser's `Accept-Language`, else English. Translators add a language with a folder and a
//! line in [`LANGUAGES`]; a message missing from a catalogue falls back to English.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// (tag, catalogue), English first: the fallback.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en/console.ftl")),
    ("es", include_str!("../locales/es/console.ftl")),
    ("sv", include_str!("../locales/sv/console.ftl")),
];

pub struct Catalogues {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
}

fn bundle(tag: &str, source: &str) -> FluentBundle<FluentResource> {
    let lang: LanguageIdentifier = tag.parse().expect("language tags in LANGUAGES are valid");
    let resource = match FluentResource::try_new(source.to_string()) {
        Ok(r) => r,
        Err((r, errors)) => {
            // Shown at start-up and in the tests (which check every catalogue parses).
            tracing::error!(language = tag, ?errors, "errors in a message catalogue");
            r
        }
    };
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // No Unicode isolation marks around arguments: they show up as boxes in some fonts.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(language = tag, ?errors, "duplicate messages in a catalogue");
    }
    bundle
}

/// The catalogues, parsed once.
pub fn catalogues() -> &'static Catalogues {
    static CATALOGUES: OnceLock<Catalogues> = OnceLock::new();
    CATALOGUES.get_or_init(|| Catalogues {
        bundles: LANGUAGES
            .iter()
            .map(|(tag, source)| (*tag, bundle(tag, source)))
            .collect(),
    })
}

impl Catalogues {
    /// The message `key` in `lang` with `args`, falling back to English, then to the key.
    pub fn text(&self, lang: &str, key: &str, args: &[(&str, String)]) -> String {
        for tag in [lang, "en"] {
            let Some(bundle) = self.bundles.get(tag) else {
                continue;
            };
            let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
                continue;
            };
            let mut fluent_args = FluentArgs::new();
            for (name, value) in args {
                fluent_args.set(*name, FluentValue::from(value.clone()));
            }
            let mut errors = vec![];
            let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
            return text.into_owned();
        }
        key.to_string()
    }

    /// Every message key of the English catalogue (for the completeness test).
    pub fn keys(source: &str) -> Vec<String> {
        source
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
            .collect()
    }
}

/// The language to show: `chosen` (the switch's cookie) if known, else the best of
/// `accept_language` (q-values honoured, `es-ES` matching `es`), else English.
pub fn negotiate(chosen: Option<&str>, accept_language: Option<&str>) -> &'static str {
    let known = |tag: &str| -> Option<&'static str> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        LANGUAGES.iter().map(|(t, _)| *t).find(|t| *t == primary)
    };
    if let Some(tag) = chosen.and_then(known) {
        return tag;
    }
    let mut offers: Vec<(f32, &'static str)> = accept_language
        .unwrap_or("")
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let tag = known(pieces.next()?.trim())?;
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some((q, tag))
        })
        .collect();
    // Stable: among equal q-values the header's order wins.
    offers.sort_by(|a, b| b.0.total_cmp(&a.0));
    offers.first().map(|(_, t)| *t).unwrap_or("en")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_negotiated() {
        assert_eq!(negotiate(None, None), "en");
        assert_eq!(negotiate(None, Some("sv-SE,sv;q=0.9,en;q=0.8")), "sv");
        assert_eq!(negotiate(None, Some("de-DE, es;q=0.5, en;q=0.4")), "es");
        assert_eq!(negotiate(None, Some("fr, de")), "en");
        assert_eq!(negotiate(Some("es"), Some("sv")), "es");
        assert_eq!(negotiate(Some("xx"), Some("sv")), "sv");
        assert_eq!(negotiate(None, Some("es;q=0, sv;q=0.1")), "sv");
    }

    #[test]
    fn every_catalogue_parses_and_has_every_message() {
        let english = Catalogues::keys(LANGUAGES[0].1);
        assert!(english.len() > 50);
        for (tag, source) in LANGUAGES {
            assert!(
                FluentResource::try_new(source.to_string()).is_ok(),
                "{tag} parses"
            );
            let keys = Catalogues::keys(source);
            for k in &english {
                assert!(keys.contains(k), "{tag} lacks {k}");
            }
        }
        let c = catalogues();
        assert_eq!(
            c.text(
                "sv",
                "ann-read-by",
                &[
                    ("read", "2".into()),
                    ("reached", "3".into()),
                    ("node", "sales".into())
                ]
            ),
            "Läst av 2 av 3 på sales"
        );
        assert_eq!(c.text("es", "no-such-key", &[]), "no-such-key");
    }
}
