//! The kinds of security event written to the audit log. Details never hold a password, code, token,
//! secret or full e-mail address.

pub const SIGN_IN_SUCCEEDED: &str = "sign_in.succeeded";
pub const SIGN_IN_FAILED: &str = "sign_in.failed";
pub const SECOND_FACTOR_FAILED: &str = "mfa.failed";
pub const SECOND_FACTOR_LOCKED: &str = "mfa.locked";
pub const FACTOR_ADDED: &str = "factor.added";
pub const FACTOR_REMOVED: &str = "factor.removed";
pub const RECOVERY_CODE_USED: &str = "recovery_code.used";
pub const RECOVERY_CODES_REPLACED: &str = "recovery_codes.replaced";
pub const MFA_RESET: &str = "mfa.reset";
pub const USER_DISABLED: &str = "user.disabled";
pub const PASSWORD_CHANGED: &str = "password.changed";
pub const PASSWORD_RESET_REQUESTED: &str = "password.reset_requested";
pub const PASSWORD_RESET: &str = "password.reset";
pub const BACKUP_ADDRESS_SET: &str = "backup_address.set";
pub const BACKUP_LINK_SENT: &str = "backup_link.sent";
pub const BACKUP_LINK_USED: &str = "backup_link.used";
