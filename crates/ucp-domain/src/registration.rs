//! Professional registrations as the registers write them. A signature on an Emergency
//! Treatment Plan is only worth what its registration can be checked against: "n/a" or "GMC 1"
//! names no one a register could find.

/// The register a registration number belongs to, by its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// General Medical Council: 7 digits (`GMC 1234567`, or the 7 digits alone).
    Gmc,
    /// Nursing and Midwifery Council: 2 digits, a letter, 4 digits, a letter (`12A3456E`).
    Nmc,
    /// Health and Care Professions Council: the profession's prefix and 5 or 6 digits
    /// (`PA12345` for a paramedic).
    Hcpc,
    /// General Pharmaceutical Council: 7 digits, with its name (`GPhC 2012345`).
    Gphc,
}

/// The HCPC's profession prefixes: arts therapists, biomedical scientists, chiropodists and
/// podiatrists, clinical scientists, dietitians, hearing aid dispensers, operating department
/// practitioners, orthoptists, occupational therapists, paramedics, physiotherapists,
/// prosthetists and orthotists, practitioner psychologists, radiographers, speech and language
/// therapists.
pub const HCPC_PREFIXES: [&str; 15] = [
    "AS", "BS", "CH", "CS", "DT", "HAD", "ODP", "OR", "OT", "PA", "PH", "PO", "PYL", "RA", "SL",
];

fn digits(text: &str, count: std::ops::RangeInclusive<usize>) -> bool {
    count.contains(&text.len()) && text.chars().all(|c| c.is_ascii_digit())
}

/// The register `text` is a registration number of, if it has one's form. Spaces, and the
/// register's name before the number, are allowed.
#[must_use]
pub fn register_of(text: &str) -> Option<Register> {
    canonical(text).map(|(register, _)| register)
}

/// The registration as its register writes it (`GMC 1234567`, `NMC 12A3456E`, `HCPC PA12345`,
/// `GPhC 2012345`), so that two spellings of one registration compare equal.
#[must_use]
pub fn canonical(text: &str) -> Option<(Register, String)> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    if let Some(rest) = compact.strip_prefix("GPHC") {
        return digits(rest, 7..=7).then(|| (Register::Gphc, format!("GPhC {rest}")));
    }
    let gmc = compact.strip_prefix("GMC").unwrap_or(&compact);
    if digits(gmc, 7..=7) {
        return Some((Register::Gmc, format!("GMC {gmc}")));
    }
    let nmc = compact.strip_prefix("NMC").unwrap_or(&compact);
    let b = nmc.as_bytes();
    if b.len() == 8
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2].is_ascii_alphabetic()
        && b[3..7].iter().all(u8::is_ascii_digit)
        && b[7].is_ascii_alphabetic()
    {
        return Some((Register::Nmc, format!("NMC {nmc}")));
    }
    let hcpc = compact.strip_prefix("HCPC").unwrap_or(&compact);
    HCPC_PREFIXES.iter().find_map(|p| {
        hcpc.strip_prefix(p)
            .filter(|number| digits(number, 5..=6))
            .map(|_| (Register::Hcpc, format!("HCPC {hcpc}")))
    })
}

/// The designations that may sign as the senior responsible clinician by default (a deployment
/// sets its own with `UCP_SENIOR_DESIGNATIONS`): senior
/// clinicians who make and own a CPR decision (ReSPECT: "the senior responsible clinician").
/// A designation qualifies when it contains one of these, case aside ("Consultant geriatrician",
/// "GP partner").
pub const SENIOR_DESIGNATIONS: [&str; 9] = [
    "consultant",
    "gp",
    "general practitioner",
    "specialty registrar",
    "specialist registrar",
    "nurse consultant",
    "advanced practitioner",
    "advanced nurse practitioner",
    "advanced clinical practitioner",
];

/// Whether `designation` may sign as the senior responsible clinician under the default list.
#[must_use]
pub fn may_be_senior(designation: &str) -> bool {
    designation_in(designation, &SENIOR_DESIGNATIONS)
}

/// Whether `designation` contains one of `list` as whole words, case aside.
#[must_use]
pub fn designation_in<S: AsRef<str>>(designation: &str, list: &[S]) -> bool {
    let words: Vec<String> = designation
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let joined = words.join(" ");
    let padded = format!(" {joined} ");
    list.iter().any(|d| {
        // Whole words: "GP" in "GP partner", not in "GPhC".
        let d = d.as_ref().trim().to_lowercase();
        !d.is_empty() && padded.contains(&format!(" {d} "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_read_by_their_registers_forms() {
        for (text, register) in [
            ("GMC 1234567", Register::Gmc),
            ("gmc1234567", Register::Gmc),
            ("7654321", Register::Gmc),
            ("12A3456E", Register::Nmc),
            ("NMC 12a3456e", Register::Nmc),
            ("PA12345", Register::Hcpc),
            ("HCPC PA 123456", Register::Hcpc),
            ("PYL01234", Register::Hcpc),
            ("GPhC 2012345", Register::Gphc),
        ] {
            assert_eq!(register_of(text), Some(register), "{text}");
        }
        for (a, b) in [
            ("GMC 1234567", "gmc1234567"),
            ("7654321", "GMC 7654321"),
            ("nmc 12a3456e", "12A3456E"),
            ("HCPC PA 12345", "pa12345"),
        ] {
            assert_eq!(canonical(a), canonical(b), "{a} = {b}");
        }
        for text in [
            "n/a", "GMC 1", "12345678", "1234A567", "ZZ12345", "PA123", "GPhC 123",
        ] {
            assert_eq!(register_of(text), None, "{text}");
        }
    }

    #[test]
    fn only_senior_designations_sign_as_senior_responsible() {
        for d in [
            "GP",
            "GP partner",
            "Consultant geriatrician",
            "Specialty registrar (ST6)",
            "Nurse consultant",
            "Advanced nurse practitioner",
        ] {
            assert!(may_be_senior(d), "{d}");
        }
        for d in [
            "HCA",
            "Staff nurse",
            "Paramedic",
            "FY1 doctor",
            "GPhC pharmacist",
        ] {
            assert!(!may_be_senior(d), "{d}");
        }
    }
}
