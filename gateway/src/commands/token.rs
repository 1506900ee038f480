//! `skybridge token issue`: signs a development or load-test JWT with a key from
//! `skybridge keys generate`, printed to stdout for use as `Authorization: Bearer …`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use skybridge_actors::signing::{DevToken, SigningKey, issue_dev_token};

/// Longest lifetime accepted, so a forgotten development token does not live for years.
const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// `skybridge token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// What to do with tokens.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// The `token` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Sign a development/test JWT and print it.
    Issue(IssueArgs),
}

/// `skybridge token issue`.
#[derive(Debug, clap::Args)]
pub struct IssueArgs {
    /// PEM private key (RSA, EC P-256 or Ed25519); the algorithm follows from it.
    #[arg(long)]
    pub key: PathBuf,
    /// `iss` claim.
    #[arg(long)]
    pub issuer: String,
    /// `aud` claim.
    #[arg(long)]
    pub audience: String,
    /// `sub` claim.
    #[arg(long)]
    pub subject: String,
    /// `scope` claim, space-separated.
    #[arg(long)]
    pub scope: Option<String>,
    /// Lifetime, e.g. 90s, 10m, 1h; at most 7 days.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
}

/// Runs `skybridge token …`.
pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    match &args.command {
        TokenCommand::Issue(issue) => {
            println!("{}", issue_token(issue)?);
            Ok(())
        }
    }
}

/// Signs the token `args` describes.
pub fn issue_token(args: &IssueArgs) -> anyhow::Result<String> {
    anyhow::ensure!(
        args.ttl >= Duration::from_secs(1) && args.ttl <= MAX_TTL,
        "--ttl must be between 1s and 7 days"
    );
    let pem = std::fs::read(&args.key)
        .with_context(|| format!("cannot read the key {}", args.key.display()))?;
    let key = SigningKey::from_pem(&pem)
        .with_context(|| format!("{} is not a usable signing key", args.key.display()))?;
    let token = DevToken {
        issuer: &args.issuer,
        audience: &args.audience,
        subject: &args.subject,
        scope: args.scope.as_deref(),
        ttl: args.ttl,
    };
    issue_dev_token(&key, &token).context("cannot sign the token")
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use serde_json::Value;

    use super::*;
    use crate::commands::keys::generate_into;

    #[test]
    fn issued_token_verifies_with_the_generated_jwks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let alg = skybridge_actors::signing::Algorithm::ES256;
        let (key, kid) = generate_into(dir.path(), alg).expect("key");
        let args = IssueArgs {
            key,
            issuer: "https://dev.skybridge.test".into(),
            audience: "api://orders".into(),
            subject: "load-test".into(),
            scope: Some("orders.read orders.write".into()),
            ttl: humantime::parse_duration("10m").expect("ttl"),
        };
        let token = issue_token(&args).expect("token");
        let jwks: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("jwks.json")).expect("jwks"))
                .expect("json");
        let jwk: Jwk = serde_json::from_value(jwks["keys"][0].clone()).expect("jwk");
        assert_eq!(jwk.common.key_id.as_deref(), Some(kid.as_str()));
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["api://orders"]);
        validation.set_issuer(&["https://dev.skybridge.test"]);
        let decoding = DecodingKey::from_jwk(&jwk).expect("key");
        let claims =
            jsonwebtoken::decode::<Value>(&token, &decoding, &validation).expect("verifies").claims;
        assert_eq!(claims["scope"], "orders.read orders.write");
        let iat = claims["iat"].as_u64().expect("iat");
        assert_eq!(claims["exp"].as_u64(), Some(iat + 600));

        let too_long = IssueArgs { ttl: MAX_TTL * 2, ..args };
        let err = issue_token(&too_long).expect_err("ttl");
        assert!(err.to_string().contains("--ttl"), "{err}");
    }
}
