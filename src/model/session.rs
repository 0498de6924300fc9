use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// A login session. Only the hash of the session id is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// UUID v7.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Hash of the session id given to the browser.
    pub session_id_hash: String,
    /// Client IP address.
    pub ip_address: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// `desktop`, `mobile`, `tablet`, …
    pub device_type: Option<String>,
    /// Browser name.
    pub browser: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// ISO country code.
    pub country_code: Option<String>,
    /// Country name.
    pub country: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last activity.
    pub last_activity: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Revocation time.
    pub revoked_at: Option<Timestamp>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// Why it was revoked.
    pub revoke_reason: Option<String>,
}

/// What `SessionRepository::create` takes.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSessionInput {
    /// Owner.
    pub user_id: Uuid,
    /// Hash of the session id.
    pub session_id_hash: String,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Client IP address.
    pub ip_address: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Device type.
    pub device_type: Option<String>,
    /// Browser.
    pub browser: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// ISO country code.
    pub country_code: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// City.
    pub city: Option<String>,
}

impl CreateSessionInput {
    /// A session with only the required fields.
    pub fn new(user_id: Uuid, session_id_hash: impl Into<String>, expires_at: Timestamp) -> Self {
        CreateSessionInput {
            user_id,
            session_id_hash: session_id_hash.into(),
            expires_at,
            ip_address: None,
            user_agent: None,
            device_type: None,
            browser: None,
            os: None,
            country_code: None,
            country: None,
            city: None,
        }
    }
}

/// Status of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Neither revoked nor expired.
    Active,
    /// Past its expiry, not revoked.
    Expired,
    /// Revoked.
    Revoked,
}

/// Filter of `SessionRepository::list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only this user's sessions.
    pub user_id: Option<Uuid>,
    /// Only this device type.
    pub device_type: Option<String>,
    /// Only sessions in this status.
    pub status: Option<SessionStatus>,
    /// Case-insensitive substring of IP, user agent, browser, OS, country or city.
    pub search: Option<String>,
    /// 1-based page (0 is treated as 1).
    pub page: u64,
    /// Page size (0 means 50, capped at 200).
    pub page_size: u64,
}

/// Aggregates over a tenant's sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStats {
    /// Sessions neither revoked nor expired.
    pub total_active: u64,
    /// Sessions created since midnight UTC.
    pub total_today: u64,
    /// Active sessions per device type (`unknown` when absent).
    pub by_device: BTreeMap<String, u64>,
    /// Active sessions per country code (`unknown` when absent).
    pub by_country: BTreeMap<String, u64>,
}
