//! Who is asking, and as what: the caller of every application call, however they signed in.

use serde::{Deserialize, Serialize};
use ucp_domain::{Author, AuthorKind, NhsNumber};

use crate::AppError;

/// What a caller is, as DESIGN's roles say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Clinician,
    Ambulance,
    Nhs111,
    Ooh,
    Dispatch,
    Patient,
    Admin,
}

impl Role {
    pub const ALL: [Self; 7] = [
        Self::Clinician,
        Self::Ambulance,
        Self::Nhs111,
        Self::Ooh,
        Self::Dispatch,
        Self::Patient,
        Self::Admin,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clinician => "clinician",
            Self::Ambulance => "ambulance",
            Self::Nhs111 => "nhs111",
            Self::Ooh => "ooh",
            Self::Dispatch => "dispatch",
            Self::Patient => "patient",
            Self::Admin => "admin",
        }
    }

    /// Ambulance crews, NHS 111 and out-of-hours GPs: they see active plans only.
    #[must_use]
    pub fn is_urgent_care(self) -> bool {
        matches!(self, Self::Ambulance | Self::Nhs111 | Self::Ooh)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

/// The verified caller.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    pub role: Role,
    pub org: Option<String>,
    pub name: Option<String>,
    /// For a patient: the NHS number whose plan they may see.
    pub nhs_number: Option<NhsNumber>,
    /// When their credential expires (seconds since 1970): a stream opened with it ends then.
    pub expires_at: u64,
}

impl Actor {
    /// Refuses the call unless the actor holds one of the roles.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] otherwise.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "The {} role may not do this.",
                self.role.as_str()
            )))
        }
    }

    /// The person's own NHS number, for the calls only a patient makes.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but a patient.
    pub fn own_nhs_number(&self) -> Result<NhsNumber, AppError> {
        self.require(&[Role::Patient])?;
        self.nhs_number
            .ok_or_else(|| AppError::Forbidden("A patient must carry their NHS number.".into()))
    }

    #[must_use]
    pub fn author(&self) -> Author {
        Author {
            actor: self.sub.clone(),
            name: self.name.clone(),
            role: self.role.as_str().to_owned(),
            organisation: self.org.clone(),
        }
    }

    #[must_use]
    pub fn kind(&self) -> AuthorKind {
        if self.role == Role::Patient {
            AuthorKind::Person
        } else {
            AuthorKind::Professional
        }
    }
}
