//! NHS Care Identity Service 2 (CIS2): a professional's permissions come from the RBAC role they
//! selected for this session and its activity codes, mapped by configuration (not code) to this
//! service's roles. The mapping is a list of rules; the first that matches the selected role
//! decides, and a role no rule grants is refused. The shipped default
//! (`config/cis2-default-mapping.toml`) documents each line.

use serde::Deserialize;
use ucp_domain::OdsCode;

use super::Role;

/// One entry of `nhsid_nrbac_roles`: a role the user holds at an organisation.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct NrbacRole {
    /// The id of this role assignment; `selected_roleid` names one of these.
    pub person_roleid: String,
    /// The organisation's ODS code.
    pub org_code: String,
    /// e.g. `"S8000:G8000:R8000"`: staff group, job group and the access role (the `R` code).
    pub role_code: String,
    #[serde(default)]
    pub role_name: Option<String>,
    /// National RBAC activities (`B` codes) the role may carry out.
    #[serde(default)]
    pub activity_codes: Vec<String>,
    #[serde(default)]
    pub person_orgid: Option<String>,
}

impl NrbacRole {
    /// The access role's `R` code (the last part of `role_code` that is one).
    #[must_use]
    pub fn access_role(&self) -> &str {
        self.role_code
            .rsplit(':')
            .find(|part| part.starts_with('R'))
            .unwrap_or(&self.role_code)
    }
}

/// The claims of a CIS2 token that this service reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Cis2Claims {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub nhsid_nrbac_roles: Vec<NrbacRole>,
    #[serde(default)]
    pub selected_roleid: Option<String>,
}

/// One line of the mapping: a selected role that matches every condition given is granted
/// `role` (or refused, when `role = "none"`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Cis2Rule {
    /// Why this line exists, in words an information governance lead can check.
    pub description: String,
    /// Access role codes (`R8000`…); the selected role's must be one of them.
    pub role_codes: Vec<String>,
    /// ODS codes; when given, the selected role's organisation must be one of them.
    #[serde(default)]
    pub organisations: Vec<String>,
    /// Activity codes; when given, the selected role must carry at least one of them.
    #[serde(default)]
    pub activities: Vec<String>,
    /// This service's role, or `none` to refuse with the description.
    pub role: String,
}

/// The rules, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cis2Mapping {
    rules: Vec<(Cis2Rule, Option<Role>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    rule: Vec<Cis2Rule>,
}

/// The shipped default mapping.
pub const DEFAULT_MAPPING: &str = include_str!("../../../../config/cis2-default-mapping.toml");

/// What the selected role was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cis2Grant {
    pub role: Role,
    /// The selected role's organisation, checked as an ODS code.
    pub organisation: String,
    /// The selected access role (`R8000`…), for the access log.
    pub access_role: String,
    /// Which line of the mapping granted it (from 1).
    pub rule: usize,
}

/// Why a CIS2 token gives no access.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cis2Refusal {
    #[error(
        "The CIS2 token names no selected role (selected_roleid): sign in again and choose a role."
    )]
    NoSelectedRole,
    #[error("The CIS2 token's selected role {0:?} is not one of the roles it lists (nhsid_nrbac_roles).")]
    SelectedRoleNotHeld(String),
    #[error("The selected role's organisation {0:?} is not an ODS code.")]
    BadOrganisation(String),
    #[error(
        "The selected role {access_role} at {organisation} gives no access to care plans: {why}"
    )]
    NotGranted {
        access_role: String,
        organisation: String,
        why: String,
    },
}

impl Cis2Mapping {
    /// Parses a mapping file (TOML).
    ///
    /// # Errors
    /// A line that names an unknown role, no role codes, or a malformed ODS code.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut rules = Vec::with_capacity(file.rule.len());
        for (i, rule) in file.rule.into_iter().enumerate() {
            let line = i + 1;
            if rule.role_codes.is_empty() {
                return Err(format!("rule {line}: role_codes is empty"));
            }
            for org in &rule.organisations {
                OdsCode::parse(org).map_err(|e| format!("rule {line}: {org:?}: {e}"))?;
            }
            let role = match rule.role.as_str() {
                "none" => None,
                other => Some(
                    other
                        .parse::<Role>()
                        .map_err(|e| format!("rule {line}: {e}"))?,
                ),
            };
            if role == Some(Role::Patient) {
                return Err(format!(
                    "rule {line}: a professional cannot be granted the patient role"
                ));
            }
            rules.push((rule, role));
        }
        Ok(Self { rules })
    }

    /// The shipped default.
    ///
    /// # Errors
    /// Never, unless the shipped file is broken (a test guards it).
    pub fn default_mapping() -> Result<Self, String> {
        Self::parse(DEFAULT_MAPPING)
    }

    pub fn rules(&self) -> impl Iterator<Item = &Cis2Rule> {
        self.rules.iter().map(|(r, _)| r)
    }

    /// The role the token's selected RBAC role is granted.
    ///
    /// # Errors
    /// [`Cis2Refusal`] for a token without a selected role, whose selected role is not its own,
    /// whose organisation is no ODS code, or whose role no line grants.
    pub fn grant(&self, claims: &Cis2Claims) -> Result<Cis2Grant, Cis2Refusal> {
        let selected = claims
            .selected_roleid
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or(Cis2Refusal::NoSelectedRole)?;
        let role = claims
            .nhsid_nrbac_roles
            .iter()
            .find(|r| r.person_roleid == selected)
            .ok_or_else(|| Cis2Refusal::SelectedRoleNotHeld(selected.to_owned()))?;
        let organisation = OdsCode::parse(&role.org_code)
            .map_err(|_| Cis2Refusal::BadOrganisation(role.org_code.clone()))?
            .to_string();
        let access_role = role.access_role().to_owned();
        let matched = self.rules.iter().enumerate().find(|(_, (rule, _))| {
            rule.role_codes.iter().any(|c| c == &access_role)
                && (rule.organisations.is_empty()
                    || rule
                        .organisations
                        .iter()
                        .any(|o| o.eq_ignore_ascii_case(&organisation)))
                && (rule.activities.is_empty()
                    || rule
                        .activities
                        .iter()
                        .any(|a| role.activity_codes.contains(a)))
        });
        match matched {
            Some((i, (_, Some(granted)))) => Ok(Cis2Grant {
                role: *granted,
                organisation,
                access_role,
                rule: i + 1,
            }),
            Some((_, (rule, None))) => Err(Cis2Refusal::NotGranted {
                access_role,
                organisation,
                why: rule.description.clone(),
            }),
            None => Err(Cis2Refusal::NotGranted {
                access_role,
                organisation,
                why: "no line of the CIS2 mapping grants it".to_owned(),
            }),
        }
    }
}

impl Cis2Claims {
    /// The display name: `name`, or the given and family names.
    #[must_use]
    pub fn display_name(&self) -> Option<String> {
        self.name.clone().or_else(|| {
            let joined = [self.given_name.as_deref(), self.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[(&str, &str, &str, &[&str])], selected: Option<&str>) -> Cis2Claims {
        Cis2Claims {
            sub: "555000000001".into(),
            name: Some("Dr Test".into()),
            given_name: None,
            family_name: None,
            nhsid_nrbac_roles: roles
                .iter()
                .map(|(id, org, code, activities)| NrbacRole {
                    person_roleid: (*id).into(),
                    org_code: (*org).into(),
                    role_code: format!("S8000:G8000:{code}"),
                    role_name: None,
                    activity_codes: activities.iter().map(|a| (*a).to_owned()).collect(),
                    person_orgid: None,
                })
                .collect(),
            selected_roleid: selected.map(str::to_owned),
        }
    }

    fn one(org: &str, code: &str, activities: &[&str]) -> Cis2Claims {
        claims(&[("r1", org, code, activities)], Some("r1"))
    }

    fn mapping() -> Cis2Mapping {
        Cis2Mapping::default_mapping().unwrap_or_else(|e| panic!("the shipped mapping: {e}"))
    }

    fn granted(c: &Cis2Claims) -> (Role, usize) {
        let g = mapping().grant(c).unwrap_or_else(|e| panic!("{e}"));
        (g.role, g.rule)
    }

    fn refused_by(c: &Cis2Claims) -> String {
        match mapping().grant(c) {
            Err(Cis2Refusal::NotGranted { why, .. }) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_shipped_mapping_has_the_eight_documented_lines() {
        let m = mapping();
        assert_eq!(m.rules().count(), 8);
        assert!(m.rules().all(|r| !r.description.is_empty()));
    }

    #[test]
    fn line_1_clinical_staff_of_every_ambulance_trust_are_ambulance() {
        for org in [
            "RRU", "RX6", "RX7", "RX8", "RX9", "RYA", "RYC", "RYD", "RYE", "RYF",
        ] {
            for code in ["R8000", "R8001", "R8003"] {
                assert_eq!(
                    granted(&one(org, code, &["B0370"])),
                    (Role::Ambulance, 1),
                    "{org} {code}"
                );
            }
        }
        // A paramedic who may also record is still a crew member at an ambulance trust.
        assert_eq!(
            granted(&one("rru", "R8003", &["B0380"])),
            (Role::Ambulance, 1)
        );
    }

    #[test]
    fn lines_2_to_4_clinicians_who_record_are_clinicians() {
        assert_eq!(
            granted(&one("F84001", "R8000", &["B0380"])),
            (Role::Clinician, 2)
        );
        assert_eq!(
            granted(&one("RJ1", "R8001", &["B0370", "B0380"])),
            (Role::Clinician, 3)
        );
        assert_eq!(
            granted(&one("F84001", "R8003", &["B0380"])),
            (Role::Clinician, 4)
        );
    }

    #[test]
    fn line_5_view_only_clinical_roles_outside_urgent_care_are_refused() {
        assert!(refused_by(&one("F84001", "R8000", &["B0370"])).contains("only view"));
        assert!(refused_by(&one("F84001", "R8003", &[])).contains("only view"));
        // The same role at an ambulance trust is a crew member (line 1 comes first).
        assert_eq!(
            granted(&one("RRU", "R8000", &["B0370"])),
            (Role::Ambulance, 1)
        );
        // At an ambulance trust without any viewing activity, line 1 does not match.
        assert!(refused_by(&one("RRU", "R8001", &[])).contains("only view"));
    }

    #[test]
    fn lines_6_and_7_students_and_administrative_roles_are_refused() {
        assert!(refused_by(&one("F84001", "R8004", &["B0370"])).contains("students"));
        for code in ["R8006", "R8008", "R8009", "R8010"] {
            assert!(
                refused_by(&one("F84001", code, &["B0370"])).contains("Administrative"),
                "{code}"
            );
        }
    }

    #[test]
    fn line_8_privacy_officers_and_caldicott_guardians_are_privacy_officers_not_admins() {
        assert_eq!(
            granted(&one("RJ1", "R0001", &[])),
            (Role::PrivacyOfficer, 8)
        );
        assert_eq!(
            granted(&one("RJ1", "R5105", &[])),
            (Role::PrivacyOfficer, 8)
        );
    }

    #[test]
    fn a_role_no_line_names_is_refused() {
        assert!(refused_by(&one("F84001", "R9999", &["B0380"])).contains("no line"));
    }

    #[test]
    fn only_the_selected_role_counts() {
        let two = [
            ("gp", "F84001", "R8000", &["B0380"][..]),
            ("crew", "RRU", "R8003", &["B0370"][..]),
        ];
        assert_eq!(granted(&claims(&two, Some("crew"))), (Role::Ambulance, 1));
        assert_eq!(granted(&claims(&two, Some("gp"))), (Role::Clinician, 2));
        let g = mapping()
            .grant(&claims(&two, Some("crew")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.organisation, "RRU");
        assert_eq!(g.access_role, "R8003");
    }

    #[test]
    fn a_token_without_a_selected_role_or_with_one_it_does_not_hold_is_refused() {
        let roles = [("r1", "F84001", "R8000", &["B0380"][..])];
        assert_eq!(
            mapping().grant(&claims(&roles, None)),
            Err(Cis2Refusal::NoSelectedRole)
        );
        assert_eq!(
            mapping().grant(&claims(&roles, Some(" "))),
            Err(Cis2Refusal::NoSelectedRole)
        );
        assert_eq!(
            mapping().grant(&claims(&roles, Some("r2"))),
            Err(Cis2Refusal::SelectedRoleNotHeld("r2".into()))
        );
    }

    #[test]
    fn the_organisation_must_be_an_ods_code() {
        assert_eq!(
            mapping().grant(&one("F8", "R8000", &["B0380"])),
            Err(Cis2Refusal::BadOrganisation("F8".into()))
        );
        assert_eq!(
            mapping().grant(&one("F84 001", "R8000", &["B0380"])),
            Err(Cis2Refusal::BadOrganisation("F84 001".into()))
        );
    }

    #[test]
    fn a_mapping_with_an_unknown_role_a_patient_or_a_bad_ods_code_does_not_load() {
        let line = |role: &str, orgs: &str| {
            format!("[[rule]]\ndescription = \"x\"\nrole_codes = [\"R8000\"]\norganisations = [{orgs}]\nrole = \"{role}\"\n")
        };
        assert!(Cis2Mapping::parse(&line("surgeon", "")).is_err());
        assert!(Cis2Mapping::parse(&line("patient", "")).is_err());
        assert!(Cis2Mapping::parse(&line("ooh", "\"F8\"")).is_err());
        assert!(Cis2Mapping::parse(&line("ooh", "\"F84001\"")).is_ok());
        assert!(Cis2Mapping::parse(
            "[[rule]]\ndescription = \"x\"\nrole_codes = []\nrole = \"ooh\"\n"
        )
        .is_err());
        assert!(Cis2Mapping::parse(
            "[[rule]]\ndescription = \"x\"\nrole_codes = [\"R8000\"]\nrole = \"ooh\"\nextra = 1\n"
        )
        .is_err());
    }
}
