//! Retention is set in seconds, so a short soak or a small deployment can keep minutes
//! rather than whole hours; the old hour keys refuse to load instead of being ignored
//! (an operator's retention silently replaced by the 7/30-day defaults).

use std::time::Duration;

use outbox_relay::settings::{Settings, DEFAULTS};

/// The defaults with one source, which the relay needs to load at all.
fn defaults_with(extra_relay_lines: &str) -> String {
    let toml = DEFAULTS.replacen("[relay]\n", &format!("[relay]\n{extra_relay_lines}"), 1);
    format!("{toml}\n[sources.order]\nurl = \"postgres://postgres@127.0.0.1:5432/x\"\n")
}

#[test]
fn retention_in_seconds_reaches_every_source() {
    let toml = defaults_with("")
        .replace(
            "published_retention_secs = 604800",
            "published_retention_secs = 90",
        )
        .replace(
            "processed_retention_secs = 2592000",
            "processed_retention_secs = 300",
        );
    let settings = Settings::load_over(&toml).expect("the settings load");
    let configs = settings.relay_configs();
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0].published_retention, Duration::from_secs(90));
    assert_eq!(configs[0].processed_retention, Duration::from_secs(300));
}

#[test]
fn the_old_retention_keys_in_hours_refuse_to_load_and_name_the_new_ones() {
    for old in [
        "published_retention_hours = 24\n",
        "processed_retention_hours = 48\n",
    ] {
        let error = match Settings::load_over(&defaults_with(old)) {
            Ok(_) => panic!("{old:?} loaded; it must be refused"),
            Err(error) => format!("{error:#}"),
        };
        assert!(
            error.contains("published_retention_secs")
                && error.contains("processed_retention_secs"),
            "{old:?}: {error}"
        );
    }
}
