//! One module per grant type (RFC 6749 §4).

mod authorization_code;
mod client_credentials;
mod refresh_token;
