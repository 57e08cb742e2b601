//! Proxy access to a person's plan, as an aggregate of its own: the person's `proxy_access`
//! stream holds each grant, each use of one and each revocation. Who may hold a grant, and when
//! one may be used or revoked, is decided here, pure; the store keeps the `proxy_grants` read
//! model from these events in the append's transaction and refuses, under the stream's lock,
//! what [`decide`] would have refused had it seen a write that raced it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The event types of the stream.
pub const GRANTED: &str = "ProxyAccessGranted";
pub const USED: &str = "ProxyAccessUsed";
pub const REVOKED: &str = "ProxyAccessRevoked";

/// A grant: who may act for the person, on what authority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyGranted {
    pub grant_id: Uuid,
    /// The person acted for.
    pub nhs_number: String,
    pub proxy_nhs_number: String,
    pub proxy_name: String,
    pub relationship: String,
    /// `lasting-power-of-attorney` or `named-by-person`.
    pub basis: String,
    #[serde(default)]
    pub lpa_registration_reference: Option<String>,
    /// The purpose the grantor stated (a clinician's grant: direct care).
    #[serde(default)]
    pub purpose: Option<String>,
    /// Why the grant was flagged for the privacy officer, if it was.
    #[serde(default)]
    pub flag: Option<serde_json::Value>,
}

/// One request a proxy made under a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyUsed {
    pub grant_id: Uuid,
    /// The use case (its operation id).
    pub action: String,
}

/// The person ended a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyRevoked {
    pub grant_id: Uuid,
    #[serde(default)]
    pub reason: Option<String>,
}

/// An event of a person's proxy access.
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyAccessEvent {
    Granted(ProxyGranted),
    Used(ProxyUsed),
    Revoked(ProxyRevoked),
}

impl ProxyAccessEvent {
    #[must_use]
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Granted(_) => GRANTED,
            Self::Used(_) => USED,
            Self::Revoked(_) => REVOKED,
        }
    }

    #[must_use]
    pub fn grant_id(&self) -> Uuid {
        match self {
            Self::Granted(e) => e.grant_id,
            Self::Used(e) => e.grant_id,
            Self::Revoked(e) => e.grant_id,
        }
    }

    /// The event's payload, as the log stores it.
    ///
    /// # Errors
    /// When it cannot be serialised (a bug).
    pub fn to_data(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Self::Granted(e) => serde_json::to_value(e),
            Self::Used(e) => serde_json::to_value(e),
            Self::Revoked(e) => serde_json::to_value(e),
        }
    }

    /// The event a stored one is.
    ///
    /// # Errors
    /// For an unknown type or a payload that is not that type's.
    pub fn from_data(event_type: &str, data: &serde_json::Value) -> Result<Self, String> {
        let parsed = match event_type {
            GRANTED => serde_json::from_value(data.clone()).map(Self::Granted),
            USED => serde_json::from_value(data.clone()).map(Self::Used),
            REVOKED => serde_json::from_value(data.clone()).map(Self::Revoked),
            other => return Err(format!("{other} is not a proxy access event")),
        };
        parsed.map_err(|e| format!("{event_type}: {e}"))
    }
}

/// What is asked of a person's proxy access.
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyAccessCommand {
    Grant(ProxyGranted),
    /// The proxy acts for the person in one request.
    Use {
        proxy_nhs_number: String,
        action: String,
    },
    Revoke {
        grant_id: Uuid,
        reason: Option<String>,
    },
}

/// One grant, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantState {
    pub grant_id: Uuid,
    pub proxy_nhs_number: String,
    pub active: bool,
}

/// A person's grants, as the rules need them (built from the events, or from the read model
/// that holds them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyAccess {
    pub grants: Vec<GrantState>,
}

impl ProxyAccess {
    /// The active grant a proxy holds, if any.
    #[must_use]
    pub fn active_for(&self, proxy_nhs_number: &str) -> Option<&GrantState> {
        self.grants
            .iter()
            .find(|g| g.active && g.proxy_nhs_number == proxy_nhs_number)
    }

    /// The state after an event.
    pub fn evolve(&mut self, event: &ProxyAccessEvent) {
        match event {
            ProxyAccessEvent::Granted(g) => self.grants.push(GrantState {
                grant_id: g.grant_id,
                proxy_nhs_number: g.proxy_nhs_number.clone(),
                active: true,
            }),
            ProxyAccessEvent::Used(_) => {}
            ProxyAccessEvent::Revoked(r) => {
                if let Some(g) = self.grants.iter_mut().find(|g| g.grant_id == r.grant_id) {
                    g.active = false;
                }
            }
        }
    }
}

/// Why a command on proxy access is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyRefusal {
    #[error("this person already holds an active grant; revoke it first to grant again")]
    AlreadyGranted,
    #[error("the proxy holds no active grant for this person")]
    NoActiveGrant,
    #[error("there is no such grant")]
    NoSuchGrant,
    #[error("the proxy grant is not active: it was already revoked")]
    AlreadyRevoked,
}

/// The event a command makes, or why it is refused: one active grant per proxy; a grant is
/// used only while active, and revoked once.
///
/// # Errors
/// [`ProxyRefusal`], as above.
pub fn decide(
    state: &ProxyAccess,
    command: ProxyAccessCommand,
) -> Result<ProxyAccessEvent, ProxyRefusal> {
    match command {
        ProxyAccessCommand::Grant(grant) => {
            if state.active_for(&grant.proxy_nhs_number).is_some() {
                return Err(ProxyRefusal::AlreadyGranted);
            }
            Ok(ProxyAccessEvent::Granted(grant))
        }
        ProxyAccessCommand::Use {
            proxy_nhs_number,
            action,
        } => state
            .active_for(&proxy_nhs_number)
            .map(|g| {
                ProxyAccessEvent::Used(ProxyUsed {
                    grant_id: g.grant_id,
                    action,
                })
            })
            .ok_or(ProxyRefusal::NoActiveGrant),
        ProxyAccessCommand::Revoke { grant_id, reason } => {
            match state.grants.iter().find(|g| g.grant_id == grant_id) {
                None => Err(ProxyRefusal::NoSuchGrant),
                Some(g) if !g.active => Err(ProxyRefusal::AlreadyRevoked),
                Some(_) => Ok(ProxyAccessEvent::Revoked(ProxyRevoked { grant_id, reason })),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(proxy: &str) -> ProxyGranted {
        ProxyGranted {
            grant_id: Uuid::new_v4(),
            nhs_number: "9434765919".into(),
            proxy_nhs_number: proxy.into(),
            proxy_name: "Sam Example".into(),
            relationship: "daughter".into(),
            basis: "named-by-person".into(),
            lpa_registration_reference: None,
            purpose: None,
            flag: None,
        }
    }

    fn after(events: &[ProxyAccessEvent]) -> ProxyAccess {
        let mut state = ProxyAccess::default();
        for e in events {
            state.evolve(e);
        }
        state
    }

    fn used(proxy: &str) -> ProxyAccessCommand {
        ProxyAccessCommand::Use {
            proxy_nhs_number: proxy.into(),
            action: "getMyCarePlan".into(),
        }
    }

    #[test]
    fn a_proxy_holds_one_active_grant_and_may_be_granted_again_once_revoked() {
        let first = decide(
            &ProxyAccess::default(),
            ProxyAccessCommand::Grant(grant("1")),
        )
        .unwrap();
        let state = after(std::slice::from_ref(&first));
        assert_eq!(
            decide(&state, ProxyAccessCommand::Grant(grant("1"))),
            Err(ProxyRefusal::AlreadyGranted)
        );
        assert!(decide(&state, ProxyAccessCommand::Grant(grant("2"))).is_ok());
        let revoked = decide(
            &state,
            ProxyAccessCommand::Revoke {
                grant_id: first.grant_id(),
                reason: None,
            },
        )
        .unwrap();
        let state = after(&[first, revoked]);
        assert!(decide(&state, ProxyAccessCommand::Grant(grant("1"))).is_ok());
    }

    #[test]
    fn a_grant_is_used_only_while_active_and_by_its_proxy() {
        let granted = decide(
            &ProxyAccess::default(),
            ProxyAccessCommand::Grant(grant("1")),
        )
        .unwrap();
        let state = after(std::slice::from_ref(&granted));
        let use_ = decide(&state, used("1")).unwrap();
        assert_eq!(use_.grant_id(), granted.grant_id());
        assert_eq!(use_.event_type(), USED);
        assert_eq!(decide(&state, used("2")), Err(ProxyRefusal::NoActiveGrant));
        let revoked = decide(
            &state,
            ProxyAccessCommand::Revoke {
                grant_id: granted.grant_id(),
                reason: Some("I can manage again.".into()),
            },
        )
        .unwrap();
        let state = after(&[granted, use_, revoked]);
        assert_eq!(decide(&state, used("1")), Err(ProxyRefusal::NoActiveGrant));
    }

    #[test]
    fn a_grant_is_revoked_once_and_only_if_it_exists() {
        let granted = decide(
            &ProxyAccess::default(),
            ProxyAccessCommand::Grant(grant("1")),
        )
        .unwrap();
        let revoke = ProxyAccessCommand::Revoke {
            grant_id: granted.grant_id(),
            reason: None,
        };
        let revoked = decide(&after(std::slice::from_ref(&granted)), revoke.clone()).unwrap();
        assert_eq!(
            decide(&after(&[granted, revoked]), revoke),
            Err(ProxyRefusal::AlreadyRevoked)
        );
        assert_eq!(
            decide(
                &ProxyAccess::default(),
                ProxyAccessCommand::Revoke {
                    grant_id: Uuid::new_v4(),
                    reason: None
                }
            ),
            Err(ProxyRefusal::NoSuchGrant)
        );
    }

    #[test]
    fn events_read_back_as_they_were_written_and_the_stored_shape_is_kept() {
        for event in [
            ProxyAccessEvent::Granted(grant("1")),
            ProxyAccessEvent::Used(ProxyUsed {
                grant_id: Uuid::new_v4(),
                action: "putMySection".into(),
            }),
            ProxyAccessEvent::Revoked(ProxyRevoked {
                grant_id: Uuid::new_v4(),
                reason: None,
            }),
        ] {
            let data = event.to_data().unwrap();
            assert_eq!(
                ProxyAccessEvent::from_data(event.event_type(), &data),
                Ok(event)
            );
        }
        // An event written before these types, as the log holds it.
        let old = serde_json::json!({ "grantId": Uuid::nil(), "action": "GET /v1/me/care-plan" });
        assert!(ProxyAccessEvent::from_data(USED, &old).is_ok());
        assert!(ProxyAccessEvent::from_data("Other", &old).is_err());
    }
}
