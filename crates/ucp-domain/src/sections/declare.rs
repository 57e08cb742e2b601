//! The macro that makes everything that lists the sections from their one table (see
//! `sections/mod.rs`). Each row: `Variant(ContentType) = "url-name", "jsonKey", field_name,
//! "StoredEventType", person | professional, required | optional;` — who may write it, and
//! whether a new plan must carry it.

macro_rules! sections {
    ($(
        $(#[$doc:meta])*
        $variant:ident($ty:ty) = $name:literal, $key:literal, $field:ident, $event:literal,
            $owner:ident, $need:ident;
    )+) => {
        const SECTION_COUNT: usize = [$(stringify!($variant)),+].len();

        /// A section's stable name, as used in URLs (`/sections/what-matters`). Never renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum PlanSection {
            $($(#[$doc])* $variant,)+
        }

        impl PlanSection {
            pub const ALL: [Self; SECTION_COUNT] = [$(Self::$variant),+];

            /// The kebab-case name used in URLs and JSON.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name,)+ }
            }

            /// The camelCase key of the section in a plan document and in a create request.
            #[must_use]
            pub fn json_key(self) -> &'static str {
                match self { $(Self::$variant => $key,)+ }
            }

            /// The name of the section's content type, which is also its schema's name in the
            /// OpenAPI document (`WhatMatters`).
            #[must_use]
            pub fn type_name(self) -> &'static str {
                match self { $(Self::$variant => stringify!($ty),)+ }
            }

            /// The stored name of the event that records this section; never changes once
            /// written.
            #[must_use]
            pub fn event_type(self) -> &'static str {
                match self { $(Self::$variant => $event,)+ }
            }

            /// The person-centred forms, which the person may write themselves; the rest are
            /// clinical.
            #[must_use]
            pub fn is_person_centred(self) -> bool {
                match self { $(Self::$variant => sections!(@person $owner),)+ }
            }

            /// Parses a section's JSON into its type, naming the first field that is wrong.
            ///
            /// # Errors
            /// A [`FieldError`] with a JSON pointer (relative to the section) and what is
            /// wrong.
            pub fn parse_content(
                self,
                json: serde_json::Value,
            ) -> Result<SectionContent, FieldError> {
                Ok(match self { $(Self::$variant => SectionContent::$variant(parse(json)?),)+ })
            }
        }

        /// A section's whole content, typed; which one is given by the section's name.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum SectionContent {
            $($variant($ty),)+
        }

        impl SectionContent {
            #[must_use]
            pub fn section(&self) -> PlanSection {
                match self { $(Self::$variant(_) => PlanSection::$variant,)+ }
            }
        }

        sections!(@body CreateCarePlanRequest
            "A new plan: Personal Information and Consent to Share, and any other sections.";
            [] $($owner $need $field $variant $ty;)+);
        sections!(@person_body StartMyCarePlanRequest
            "Starting my own plan: my personal information and any of my own forms; I consent myself.";
            [] $($owner $need $field $variant $ty;)+);
    };

    (@person person) => { true };
    (@person professional) => { false };

    // A request body with every section: required ones as they are, the others optional.
    (@body $name:ident $doc:literal; [$($out:tt)*]) => {
        sections!(@emit $name $doc; $($out)*);
    };
    (@body $name:ident $doc:literal; [$($out:tt)*] $owner:ident required $field:ident $variant:ident $ty:ty; $($rest:tt)*) => {
        sections!(@body $name $doc; [$($out)* required $field $variant [$ty];] $($rest)*);
    };
    (@body $name:ident $doc:literal; [$($out:tt)*] $owner:ident optional $field:ident $variant:ident $ty:ty; $($rest:tt)*) => {
        sections!(@body $name $doc; [$($out)* optional $field $variant [Option<$ty>];] $($rest)*);
    };
    // The same with the person's own sections only.
    (@person_body $name:ident $doc:literal; [$($out:tt)*]) => {
        sections!(@emit $name $doc; $($out)*);
    };
    (@person_body $name:ident $doc:literal; [$($out:tt)*] person required $field:ident $variant:ident $ty:ty; $($rest:tt)*) => {
        sections!(@person_body $name $doc; [$($out)* required $field $variant [$ty];] $($rest)*);
    };
    (@person_body $name:ident $doc:literal; [$($out:tt)*] person optional $field:ident $variant:ident $ty:ty; $($rest:tt)*) => {
        sections!(@person_body $name $doc; [$($out)* optional $field $variant [Option<$ty>];] $($rest)*);
    };
    (@person_body $name:ident $doc:literal; [$($out:tt)*] professional $need:ident $field:ident $variant:ident $ty:ty; $($rest:tt)*) => {
        sections!(@person_body $name $doc; [$($out)*] $($rest)*);
    };
    (@emit $name:ident $doc:literal; $($need:ident $field:ident $variant:ident [$fty:ty];)*) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name {
            $(pub $field: $fty,)*
        }

        impl $name {
            /// Every section the body carries, in the table's order.
            #[must_use]
            pub fn into_contents(self) -> Vec<SectionContent> {
                let mut contents = Vec::new();
                $(sections!(@push $need contents self.$field, $variant);)*
                contents
            }
        }
    };
    (@push required $contents:ident $value:expr, $variant:ident) => {
        $contents.push(SectionContent::$variant($value));
    };
    (@push optional $contents:ident $value:expr, $variant:ident) => {
        if let Some(value) = $value {
            $contents.push(SectionContent::$variant(value));
        }
    };
}
