//! Messages of the minter actor.

use actix::Message;

use super::error::CredentialError;
use super::token::Token;

/// Asks for a usable token: answered at once when one is cached, when the mint in flight ends
/// otherwise (starting one if none is), and at once with an error while backing off.
pub(crate) struct GetToken;

impl Message for GetToken {
    type Result = Result<Token, CredentialError>;
}
