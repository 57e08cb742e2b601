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
    /// Staff of a care home (signed in through their digital social care record system, or
    /// CIS2): they read the plans of the people who live at their home, and write nothing
    /// clinical.
    #[serde(rename = "care-home")]
    CareHome,
    /// A privacy officer or Caldicott guardian: reads the access log and replays what an access
    /// showed, to look into accesses that need a reason; reads no plan of their own accord, and
    /// administers nothing (separate from admin).
    #[serde(rename = "privacy-officer")]
    PrivacyOfficer,
}

impl Role {
    pub const ALL: [Self; 9] = [
        Self::Clinician,
        Self::Ambulance,
        Self::Nhs111,
        Self::Ooh,
        Self::Dispatch,
        Self::Patient,
        Self::Admin,
        Self::CareHome,
        Self::PrivacyOfficer,
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
            Self::CareHome => "care-home",
            Self::PrivacyOfficer => "privacy-officer",
        }
    }

    /// The person themselves (NHS login), or someone acting for them: never asked why they
    /// read their own record, and proofed by NHS login.
    #[must_use]
    pub fn is_person(self) -> bool {
        self == Self::Patient
    }

    /// A role that reads for one purpose only: a dispatch system reads to send help, so its
    /// purpose is always an emergency, and never asked for.
    #[must_use]
    pub fn fixed_purpose(self) -> Option<Purpose> {
        match self {
            Self::Dispatch => Some(Purpose::Emergency),
            _ => None,
        }
    }

    /// Whether this role must say why it reads a record (`X-Purpose-Of-Use`).
    #[must_use]
    pub fn states_purpose(self) -> bool {
        !self.is_person() && self.fixed_purpose().is_none()
    }

    /// Sees plans in every status and searches all of them: the clinicians who keep plans.
    #[must_use]
    pub fn keeps_plans(self) -> bool {
        self == Self::Clinician
    }

    /// Reads a plan only while the person lives at the caller's organisation (a care home's
    /// staff), and only the parts a home's staff need.
    #[must_use]
    pub fn reads_residents_only(self) -> bool {
        self == Self::CareHome
    }

    /// Goes to the person's home (a crew, an out-of-hours GP) or lives there: may read how to
    /// get in (a key safe's code, access notes).
    #[must_use]
    pub fn attends_home(self) -> bool {
        matches!(self, Self::Ambulance | Self::Ooh | Self::Patient)
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

/// How sure NHS login is of who the person is (its `identity_proofing_level`), lowest first:
/// P0 (an email and a phone), P5 (some details checked), P9 (identity verified, e.g. by photo
/// ID and a face scan, or in person at their GP practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProofingLevel {
    P0,
    P5,
    P9,
}

impl ProofingLevel {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P0 => "P0",
            Self::P5 => "P5",
            Self::P9 => "P9",
        }
    }
}

impl std::str::FromStr for ProofingLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "P0" => Ok(Self::P0),
            "P5" => Ok(Self::P5),
            "P9" => Ok(Self::P9),
            other => Err(format!(
                "{other:?} is not an NHS login proofing level (P0, P5, P9)"
            )),
        }
    }
}

/// The person's proofing: what their sign-in holds, and what this deployment requires to see
/// or change their own plan (`nhs_login.minimum_proofing_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proofing {
    pub level: ProofingLevel,
    pub required: ProofingLevel,
}

/// Why a professional is reading a record (`X-Purpose-Of-Use`): a fixed list, so that the access
/// log can be searched by it and a Caldicott guardian can ask about every read that was not
/// direct care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Care of this person by the professional's team.
    DirectCare,
    /// An emergency: a crew, 111 or an out-of-hours GP acting now.
    Emergency,
    /// Checking how records were used (privacy officers, Caldicott guardians, admins).
    Audit,
}

impl Purpose {
    pub const ALL: [Self; 3] = [Self::DirectCare, Self::Emergency, Self::Audit];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DirectCare => "direct-care",
            Self::Emergency => "emergency",
            Self::Audit => "audit",
        }
    }
}

impl std::str::FromStr for Purpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| {
                format!("{s:?} is not a purpose of use: say direct-care, emergency or audit")
            })
    }
}

/// A proxy acting for the person under a grant that was active when the request began (its use
/// is an event in the person's proxy-access stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActingFor {
    pub grant_id: uuid::Uuid,
    /// The person acted for.
    pub nhs_number: NhsNumber,
}

/// The verified caller.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    pub role: Role,
    pub org: Option<String>,
    /// The organisation's name, where the sign-in gives it (a care home's, shown to the
    /// person it admits).
    pub org_name: Option<String>,
    pub name: Option<String>,
    /// For a patient: the NHS number whose plan they may see (their own; a proxy's is theirs,
    /// and [`Actor::acting_for`] names the person they act for).
    pub nhs_number: Option<NhsNumber>,
    /// When their credential expires (seconds since 1970): a stream opened with it ends then.
    pub expires_at: u64,
    /// The trusted issuer that vouched for them (`development` for the development secret).
    pub issuer: String,
    /// What in the credential granted the role (CIS2: the selected access role and the line of
    /// the mapping that granted it), for the access log.
    pub credential: Option<String>,
    /// For NHS login: the level of identity proofing held and required.
    pub proofing: Option<Proofing>,
    /// Why a professional is reading (required on their reads; fixed for dispatch).
    pub purpose: Option<Purpose>,
    /// The person a proxy says they act for (`UCP-On-Behalf-Of`), not yet checked: for a use
    /// case that a proxy may do, `proxies::admit` checks the grant, records its use and sets
    /// [`Actor::acting_for`]; every other use case refuses it.
    pub on_behalf_of: Option<NhsNumber>,
    /// Set when a proxy acts for the person, under a grant checked by the use case.
    pub acting_for: Option<ActingFor>,
    /// The professional registration the sign-in carries (the issuer's `registration` claim,
    /// where it has one): a signature made by this actor is in it.
    pub registration: Option<String>,
}

impl Actor {
    /// A caller with nothing but a subject and role (system work, seeding, tests).
    #[must_use]
    pub fn new(sub: impl Into<String>, role: Role) -> Self {
        Self {
            sub: sub.into(),
            role,
            org: None,
            org_name: None,
            name: None,
            nhs_number: None,
            expires_at: u64::MAX,
            issuer: "internal".to_owned(),
            credential: None,
            proofing: None,
            purpose: None,
            on_behalf_of: None,
            acting_for: None,
            registration: None,
        }
    }

    /// The role as written in the log and the access log: a patient acting for someone else is
    /// a `proxy`.
    #[must_use]
    pub fn role_name(&self) -> &'static str {
        if self.acting_for.is_some() {
            "proxy"
        } else {
            self.role.as_str()
        }
    }

    /// The person's own NHS number (or, for a proxy admitted by the use case, that of the
    /// person they act for), for the calls only a person makes.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but a person.
    pub fn own_nhs_number(&self) -> Result<NhsNumber, AppError> {
        if !self.role.is_person() {
            return Err(AppError::Forbidden(format!(
                "The {} role has no plan of its own.",
                self.role.as_str()
            )));
        }
        self.proofed()?;
        match (&self.acting_for, self.on_behalf_of) {
            (Some(acting), Some(named)) if acting.nhs_number == named => {
                return Ok(acting.nhs_number)
            }
            // Named someone, not (or not yet) admitted for them: never the proxy's own plan.
            (_, Some(_)) | (Some(_), None) => return Err(AppError::Forbidden(
                "You act for someone only under an active proxy grant, checked for this request."
                    .into(),
            )),
            (None, None) => {}
        }
        self.nhs_number
            .ok_or_else(|| AppError::Forbidden("A patient must carry their NHS number.".into()))
    }

    /// The person's own NHS number, for what only the person may do (never a proxy: withdraw
    /// their consent or plan, grant or revoke proxies, read who looked at their record).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but the person themselves.
    pub fn person_themselves(&self) -> Result<NhsNumber, AppError> {
        if self.acting_for.is_some() || self.on_behalf_of.is_some() {
            return Err(AppError::Forbidden(
                "Only the person may do this; a proxy may read the plan and write its person-centred sections.".into(),
            ));
        }
        self.own_nhs_number()
    }

    /// Refuses an NHS login whose identity proofing is below what this deployment requires.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] naming both levels.
    pub fn proofed(&self) -> Result<(), AppError> {
        match (self.role, self.proofing) {
            (_, Some(p)) if p.level < p.required => Err(AppError::Forbidden(format!(
                "Your NHS login is proofed to {}; seeing or changing a care plan needs identity proofing {}. Prove your identity in the NHS App (photo ID and a face scan) and sign in again.",
                p.level.as_str(),
                p.required.as_str()
            ))),
            // A person whose proofing nobody vouched for is not taken as proofed.
            (role, None) if role.is_person() => Err(AppError::Forbidden(
                "Your sign-in does not say how your identity was proofed; seeing or changing a care plan needs NHS login identity proofing.".into(),
            )),
            _ => Ok(()),
        }
    }

    #[must_use]
    pub fn author(&self) -> Author {
        Author {
            actor: self.sub.clone(),
            name: self.name.clone(),
            role: self.role_name().to_owned(),
            organisation: self.org.clone(),
            on_behalf_of: self.acting_for.as_ref().map(|p| p.nhs_number.to_string()),
        }
    }

    #[must_use]
    pub fn kind(&self) -> AuthorKind {
        if self.role.is_person() {
            AuthorKind::Person
        } else {
            AuthorKind::Professional
        }
    }
}
