//! Who must use a second factor, and what happens when they have none: the organisation's policy,
//! the per-user override, the client's demand and `acr_values` step-up, weighed against what the
//! current sign-in already achieved.

use serde::{Deserialize, Serialize};

use crate::MethodKind;
use crate::assurance::{ACR_LEVELS, ACR_MFA_EMAIL, ACR_PASSWORD, ACR_REMEMBERED_DEVICE};

/// An organisation's rule for second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// Everyone must use a second factor; people without one set it up right after the password.
    Required,
    /// People choose on their account page; who has one is asked for it.
    Optional,
    /// No second-factor pages at all (unless a client or a staff override demands one).
    Off,
}

/// An organisation's settings that shape sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: String,
    /// Shown to people and used as the issuer label in authenticator apps.
    pub display_name: String,
    pub mfa: MfaPolicy,
    /// The second factors its people may add.
    pub methods: Vec<MethodKind>,
    /// How long a device may be remembered, in days; 0 = never.
    pub remember_device_days: u32,
    pub theme: String,
    /// Whether "I can't use my second factor" may send a one-time sign-in link to a person's
    /// confirmed backup address.
    pub backup_link: bool,
}

/// Everything that may demand a second factor for one sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    /// The organisation's policy (`None` reads as `Optional`).
    pub organisation: Option<MfaPolicy>,
    /// `gatehouse user require-mfa`: staff accounts always use a second factor.
    pub user_required: bool,
    /// `require_mfa = true` in the client's file.
    pub client_required: bool,
    /// `acr_values` of the authorization request, space-separated.
    pub acr_values: Option<String>,
    /// The request demands a fresh authentication (`max_age`).
    pub fresh: bool,
}

/// What the sign-in must do next about second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    NotNeeded,
    /// Ask for one of the person's factors (that reaches at least the given `acr`).
    Challenge {
        minimum_acr: &'static str,
    },
    /// The person has no factor but must use one: the set-up wizard.
    Enrol {
        minimum_acr: &'static str,
    },
}

fn rank(acr: &str) -> Option<usize> {
    ACR_LEVELS.iter().position(|level| *level == acr)
}

impl Demand {
    /// The lowest `acr` this sign-in must reach. `acr_values` asks for any one of its values (OpenID
    /// Connect Core §3.1.2.1); unknown values are ignored.
    pub fn minimum_acr(&self) -> &'static str {
        let mut minimum = ACR_PASSWORD;
        let forced = self.organisation == Some(MfaPolicy::Required)
            || self.user_required
            || self.client_required;
        if forced {
            minimum = ACR_MFA_EMAIL;
        }
        let requested = self
            .acr_values
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter_map(|value| ACR_LEVELS.iter().copied().find(|level| *level == value))
            .min_by_key(|level| rank(level));
        if let Some(requested) = requested
            && rank(requested) > rank(minimum)
        {
            minimum = requested;
        }
        minimum
    }

    /// Whether a remembered device may stand in for the second step: only for what the policy asks,
    /// never for an explicit `acr_values` demand or a fresh sign-in.
    pub fn device_may_stand_in(&self) -> bool {
        let asks_acr = self
            .acr_values
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .any(|value| ACR_LEVELS.iter().skip(1).any(|level| *level == value));
        !asks_acr && !self.fresh
    }

    /// Decides, given whether the person has any second factor and the `acr` the sign-in reached so far.
    pub fn second_step(&self, has_factors: bool, achieved_acr: Option<&str>) -> SecondStep {
        let minimum = self.minimum_acr();
        if achieved_acr == Some(ACR_REMEMBERED_DEVICE) && has_factors && self.device_may_stand_in()
        {
            return SecondStep::NotNeeded;
        }
        let achieved = achieved_acr.and_then(rank).unwrap_or(0);
        if minimum != ACR_PASSWORD {
            if rank(minimum).is_some_and(|needed| achieved >= needed) {
                return SecondStep::NotNeeded;
            }
            return if has_factors {
                SecondStep::Challenge {
                    minimum_acr: minimum,
                }
            } else {
                SecondStep::Enrol {
                    minimum_acr: minimum,
                }
            };
        }
        // Nothing forces it: a person who set up a factor uses it, unless the organisation has none.
        let policy = self.organisation.unwrap_or(MfaPolicy::Optional);
        if policy == MfaPolicy::Off || !has_factors || achieved >= rank(ACR_MFA_EMAIL).unwrap_or(1)
        {
            return SecondStep::NotNeeded;
        }
        SecondStep::Challenge {
            minimum_acr: ACR_MFA_EMAIL,
        }
    }
}

/// Whether a method reaches `minimum_acr` (e-mail codes do not reach the strong level).
pub fn method_reaches(method: MethodKind, minimum_acr: &str) -> bool {
    rank(crate::assurance::acr(Some(method))) >= rank(minimum_acr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assurance::{ACR_MFA, ACR_PHISHING_RESISTANT};

    fn demand(organisation: MfaPolicy) -> Demand {
        Demand {
            organisation: Some(organisation),
            ..Demand::default()
        }
    }

    #[test]
    fn required_without_factors_sends_to_the_wizard() {
        assert_eq!(
            demand(MfaPolicy::Required).second_step(false, Some(ACR_PASSWORD)),
            SecondStep::Enrol {
                minimum_acr: ACR_MFA_EMAIL
            }
        );
    }

    #[test]
    fn required_with_factors_challenges() {
        assert_eq!(
            demand(MfaPolicy::Required).second_step(true, Some(ACR_PASSWORD)),
            SecondStep::Challenge {
                minimum_acr: ACR_MFA_EMAIL
            }
        );
    }

    #[test]
    fn a_session_that_already_used_a_second_factor_is_enough() {
        assert_eq!(
            demand(MfaPolicy::Required).second_step(true, Some(ACR_MFA)),
            SecondStep::NotNeeded
        );
    }

    #[test]
    fn optional_asks_only_people_who_set_up_a_factor() {
        assert_eq!(
            demand(MfaPolicy::Optional).second_step(false, Some(ACR_PASSWORD)),
            SecondStep::NotNeeded
        );
        assert_eq!(
            demand(MfaPolicy::Optional).second_step(true, Some(ACR_PASSWORD)),
            SecondStep::Challenge {
                minimum_acr: ACR_MFA_EMAIL
            }
        );
    }

    #[test]
    fn off_never_asks_even_people_with_factors() {
        assert_eq!(
            demand(MfaPolicy::Off).second_step(true, Some(ACR_PASSWORD)),
            SecondStep::NotNeeded
        );
    }

    #[test]
    fn staff_override_and_client_demand_beat_an_off_organisation() {
        let staff = Demand {
            user_required: true,
            ..demand(MfaPolicy::Off)
        };
        assert_eq!(
            staff.second_step(false, Some(ACR_PASSWORD)),
            SecondStep::Enrol {
                minimum_acr: ACR_MFA_EMAIL
            }
        );
        let client = Demand {
            client_required: true,
            ..demand(MfaPolicy::Off)
        };
        assert_eq!(
            client.second_step(true, Some(ACR_PASSWORD)),
            SecondStep::Challenge {
                minimum_acr: ACR_MFA_EMAIL
            }
        );
    }

    #[test]
    fn acr_values_step_up_to_the_lowest_known_value_asked_for() {
        let step_up = Demand {
            acr_values: Some(format!("unknown {ACR_MFA} {ACR_PHISHING_RESISTANT}")),
            ..demand(MfaPolicy::Optional)
        };
        assert_eq!(step_up.minimum_acr(), ACR_MFA);
        assert_eq!(
            step_up.second_step(true, Some(ACR_MFA_EMAIL)),
            SecondStep::Challenge {
                minimum_acr: ACR_MFA
            }
        );
        assert_eq!(
            step_up.second_step(true, Some(ACR_PHISHING_RESISTANT)),
            SecondStep::NotNeeded
        );
    }

    #[test]
    fn a_remembered_device_satisfies_the_policy_but_not_a_step_up_or_a_fresh_sign_in() {
        let policy = demand(MfaPolicy::Required);
        assert_eq!(
            policy.second_step(true, Some(ACR_REMEMBERED_DEVICE)),
            SecondStep::NotNeeded
        );
        let step_up = Demand {
            acr_values: Some(ACR_MFA.into()),
            ..demand(MfaPolicy::Required)
        };
        assert_eq!(
            step_up.second_step(true, Some(ACR_REMEMBERED_DEVICE)),
            SecondStep::Challenge {
                minimum_acr: ACR_MFA
            }
        );
        let fresh = Demand {
            fresh: true,
            ..demand(MfaPolicy::Required)
        };
        assert!(!fresh.device_may_stand_in());
        assert_eq!(
            fresh.second_step(true, Some(ACR_REMEMBERED_DEVICE)),
            SecondStep::Challenge {
                minimum_acr: ACR_MFA_EMAIL
            }
        );
    }

    #[test]
    fn e_mail_codes_do_not_reach_the_strong_level() {
        assert!(method_reaches(MethodKind::Email, ACR_MFA_EMAIL));
        assert!(!method_reaches(MethodKind::Email, ACR_MFA));
        assert!(method_reaches(MethodKind::Totp, ACR_MFA));
        assert!(method_reaches(MethodKind::Passkey, ACR_PHISHING_RESISTANT));
    }
}
