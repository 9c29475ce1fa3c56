//! String values from a closed set (themes, formats, languages): one macro so each set is declared
//! once with its public spellings, and parsing, display, serde and the "allowed values" listed in
//! validation errors all come from that one declaration.

/// Declares a closed set: an enum of variants, each with its one public spelling, with
/// `ALLOWED`, `as_str`, `parse`, `Display` and serde through the spelling. The calling crate
/// depends on `serde`.
///
/// ```
/// tenantry_kernel::closed_set!(
///     /// A colour.
///     Colour { Red => "red", Blue => "blue" }
/// );
/// assert_eq!(Colour::parse("red"), Ok(Colour::Red));
/// assert_eq!(Colour::parse("green"), Err("must be one of: red, blue".to_owned()));
/// ```
#[macro_export]
macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub enum $name {
            // A variant is its spelling.
            $(#[allow(missing_docs)] $variant),+
        }

        impl $name {
            /// Every accepted spelling, in declaration order.
            pub const ALLOWED: &'static [&'static str] = &[$($text),+];

            /// The public spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Reads a public spelling exactly; the error lists every accepted one.
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!("must be one of: {}", Self::ALLOWED.join(", "))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }
    };
}
