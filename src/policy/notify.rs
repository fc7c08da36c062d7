//! The `notify` key: where the procedure's incident notices go, for which
//! severities and events. Validated from `raw::RawNotify`; the sending is
//! `crate::notify`'s.

use std::fmt;

use super::raw::{Located, RawNotify};

/// Where a notice goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// `slack:#channel`: the channel's name without `#` (or a channel ID
    /// such as `C0123ABCD`), posted to with `chat.postMessage`.
    Slack { channel: String },
    /// `webhook:NAME`: a JSON POST to the URL in env `NOTIFY_WEBHOOK_<NAME>`
    /// (`NAME` upper-cased).
    Webhook { name: String },
}

impl Target {
    /// Reads `slack:#channel` or `webhook:NAME`; the error says what is
    /// accepted.
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        if let Some(channel) = text.strip_prefix("slack:") {
            let channel = channel.strip_prefix('#').unwrap_or(channel);
            if channel.is_empty()
                || channel
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '#')
            {
                return Err(format!(
                    "`{text}` is not a Slack channel: write slack:#channel-name"
                ));
            }
            return Ok(Target::Slack {
                channel: channel.to_string(),
            });
        }
        if let Some(name) = text.strip_prefix("webhook:") {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "`{text}` is not a webhook name: write webhook:NAME with letters, digits and _ \
                     (its URL is the deployment's env NOTIFY_WEBHOOK_NAME)"
                ));
            }
            return Ok(Target::Webhook {
                name: name.to_ascii_uppercase(),
            });
        }
        Err(format!(
            "unknown notice target `{text}`: write slack:#channel or webhook:NAME"
        ))
    }

    /// The environment variable holding a webhook's URL.
    pub fn webhook_env(name: &str) -> String {
        format!("NOTIFY_WEBHOOK_{}", name.to_ascii_uppercase())
    }
}

impl fmt::Display for Target {
    /// `slack:#channel` / `webhook:NAME`: the store's key and the logs' name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Slack { channel } => write!(f, "slack:#{channel}"),
            Target::Webhook { name } => write!(f, "webhook:{name}"),
        }
    }
}

/// The events a notice is sent for, the procedure's moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeEvent {
    Declared,
    SeverityChanged,
    Approved,
    Escalated,
    Merged,
    ClosedUnmerged,
}

impl NoticeEvent {
    pub const ALL: [NoticeEvent; 6] = [
        NoticeEvent::Declared,
        NoticeEvent::SeverityChanged,
        NoticeEvent::Approved,
        NoticeEvent::Escalated,
        NoticeEvent::Merged,
        NoticeEvent::ClosedUnmerged,
    ];

    /// The name written in the policy, the store and the webhook's `event`.
    pub fn name(self) -> &'static str {
        match self {
            NoticeEvent::Declared => "declared",
            NoticeEvent::SeverityChanged => "severity_changed",
            NoticeEvent::Approved => "approved",
            NoticeEvent::Escalated => "escalated",
            NoticeEvent::Merged => "merged",
            NoticeEvent::ClosedUnmerged => "closed_unmerged",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeEvent> {
        NoticeEvent::ALL.into_iter().find(|e| e.name() == text)
    }
}

/// One `notify` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyRule {
    pub to: Target,
    /// Severity names (as the policy spells them). Empty: every severity.
    pub severities: Vec<String>,
    /// Never empty: absent in the file means every event.
    pub on: Vec<NoticeEvent>,
}

impl NotifyRule {
    /// Whether a notice of `event` for a hotfix of `severity` goes to this
    /// entry's target.
    pub fn wants(&self, severity: &str, event: NoticeEvent) -> bool {
        (self.severities.is_empty()
            || self
                .severities
                .iter()
                .any(|s| s.eq_ignore_ascii_case(severity)))
            && self.on.contains(&event)
    }
}

/// Validates the `notify` list: targets, severities (must be defined) and
/// event names; each error at the value's line and column.
pub(super) fn rules(
    raw: Option<&[Located<RawNotify>]>,
    severity_names: &[String],
    error: &mut dyn FnMut(usize, usize, String),
) -> Vec<NotifyRule> {
    let mut out = Vec::new();
    for entry in raw.unwrap_or_default() {
        let entry = &entry.value;
        let to = match Target::parse(&entry.to.value) {
            Ok(to) => Some(to),
            Err(message) => {
                let (line, column) = entry.to.position();
                error(line, column, message);
                None
            }
        };
        let mut severities = Vec::new();
        for s in entry.severities.as_deref().unwrap_or_default() {
            if severity_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&s.value))
            {
                severities.push(s.value.clone());
            } else {
                let (line, column) = s.position();
                error(
                    line,
                    column,
                    format!(
                        "notify: unknown severity `{}`; defined severities: {}",
                        s.value,
                        severity_names.join(", ")
                    ),
                );
            }
        }
        let on = match entry.on.as_deref() {
            None => NoticeEvent::ALL.to_vec(),
            Some(list) => {
                let mut on = Vec::new();
                for e in list {
                    match NoticeEvent::parse(e.value.trim()) {
                        Some(event) if !on.contains(&event) => on.push(event),
                        Some(_) => {}
                        None => {
                            let (line, column) = e.position();
                            error(
                                line,
                                column,
                                format!(
                                    "notify: unknown event `{}`; expected one of {}",
                                    e.value,
                                    NoticeEvent::ALL.map(NoticeEvent::name).join(", ")
                                ),
                            );
                        }
                    }
                }
                if list.is_empty() {
                    let (line, column) = entry.to.position();
                    error(
                        line,
                        column,
                        "notify: `on` is empty: this target would hear nothing; remove `on` for every event".to_string(),
                    );
                }
                on
            }
        };
        if let Some(to) = to {
            out.push(NotifyRule { to, severities, on });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_and_print_alike() {
        assert_eq!(
            Target::parse("slack:#incidents"),
            Ok(Target::Slack {
                channel: "incidents".into()
            })
        );
        assert_eq!(
            Target::parse("webhook:teams").map(|t| t.to_string()),
            Ok("webhook:TEAMS".to_string())
        );
        assert!(Target::parse("email:ops@example.com").is_err());
        assert!(Target::parse("slack:#").is_err());
        assert!(Target::parse("webhook:a-b").is_err());
        assert_eq!(Target::webhook_env("teams"), "NOTIFY_WEBHOOK_TEAMS");
    }
}
