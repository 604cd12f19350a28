//! SMS codes: a mobile number, validated and normalised to E.164 with libphonenumber's metadata (the
//! `phonenumber` crate), confirmed with a code before it is saved. Only countries the operator allows
//! can receive codes (toll fraud: attackers pay premium-rate numbers abroad with other people's SMS).

use phonenumber::{Mode, PhoneNumber, Type, country};

/// Why a number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// Not a phone number, or not a valid one.
    Invalid,
    /// Valid, but not a mobile number (a landline cannot receive SMS).
    NotMobile,
    /// A country the operator does not send SMS to.
    CountryNotAllowed,
}

impl std::fmt::Display for NumberProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Invalid => "not a valid phone number (give it with the country code)",
            Self::NotMobile => "not a mobile number",
            Self::CountryNotAllowed => "in a country not listed in [mfa] sms_countries",
        })
    }
}

/// A mobile number in E.164 form, e.g. `+31612345678`, with its country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileNumber {
    pub e164: String,
    /// ISO 3166-1 alpha-2, e.g. `NL`.
    pub country: String,
}

/// Parses what a person typed. It must carry its country code (`+31 6 1234 5678` or `0031 …`); the
/// number must be valid, mobile, and in one of `allowed_countries` (ISO codes such as `NL`, `BE`).
pub fn parse_mobile(
    typed: &str,
    allowed_countries: &[String],
) -> Result<MobileNumber, NumberProblem> {
    let cleaned = typed.trim();
    let international = match cleaned.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => cleaned.to_owned(),
    };
    if !international.starts_with('+') {
        return Err(NumberProblem::Invalid);
    }
    let number: PhoneNumber =
        phonenumber::parse(None, &international).map_err(|_| NumberProblem::Invalid)?;
    if !number.is_valid() {
        return Err(NumberProblem::Invalid);
    }
    if !matches!(
        number.number_type(&phonenumber::metadata::DATABASE),
        Type::Mobile | Type::FixedLineOrMobile
    ) {
        return Err(NumberProblem::NotMobile);
    }
    let country = number
        .country()
        .id()
        .map(|id: country::Id| id.as_ref().to_owned())
        .unwrap_or_default();
    if !allowed_countries
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(&country))
    {
        return Err(NumberProblem::CountryNotAllowed);
    }
    Ok(MobileNumber {
        e164: number.format().mode(Mode::E164).to_string(),
        country,
    })
}

/// `+31 ••• •••• 78`: the country code and the last two digits.
pub fn mask(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return "•••".to_owned();
    }
    let last: String = digits[digits.len() - 2..].iter().collect();
    let code_len = phonenumber::parse(None, e164)
        .map(|n| n.code().value().to_string().len())
        .unwrap_or(2);
    let code: String = digits[..code_len.min(3)].iter().collect();
    format!("+{code} ••• •••• {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["NL".into(), "BE".into()]
    }

    #[test]
    fn dutch_and_belgian_mobiles_normalise_to_e164() {
        assert_eq!(
            parse_mobile("+31 6 1234 5678", &allowed()),
            Ok(MobileNumber {
                e164: "+31612345678".into(),
                country: "NL".into()
            })
        );
        assert_eq!(
            parse_mobile("0031612345678", &allowed()).unwrap().e164,
            "+31612345678"
        );
        assert_eq!(
            parse_mobile("+32 470 12 34 56", &allowed())
                .unwrap()
                .country,
            "BE"
        );
    }

    #[test]
    fn number_without_country_code_is_invalid() {
        assert_eq!(
            parse_mobile("06 1234 5678", &allowed()),
            Err(NumberProblem::Invalid)
        );
    }

    #[test]
    fn nonsense_is_invalid() {
        for typed in ["", "+", "+31", "hello", "+31 6 12", "+999 1234 5678"] {
            assert_eq!(
                parse_mobile(typed, &allowed()),
                Err(NumberProblem::Invalid),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn landline_is_not_mobile() {
        // Amsterdam, fixed line.
        assert_eq!(
            parse_mobile("+31 20 123 4567", &allowed()),
            Err(NumberProblem::NotMobile)
        );
    }

    #[test]
    fn country_outside_the_allowed_list_is_refused() {
        // A valid German mobile.
        assert_eq!(
            parse_mobile("+49 151 23456789", &allowed()),
            Err(NumberProblem::CountryNotAllowed)
        );
    }

    #[test]
    fn mask_keeps_country_code_and_last_two_digits() {
        assert_eq!(mask("+31612345678"), "+31 ••• •••• 78");
    }
}
