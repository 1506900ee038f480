//! `skybridge keys generate --out DIR [--alg RS256|ES256|EdDSA]`: creates a signing key for
//! the `self_signed` credential or a development issuer.
//!
//! The private key goes to `DIR/<kid>.pem` (PKCS#8, mode 0600, never overwritten) and
//! `DIR/jwks.json` is rewritten with the public keys of every `*.pem` in `DIR`, so the same
//! directory serves as a `signing_keys` directory and, through `jwks.json`, as a dev issuer's
//! `jwks_file` that keeps old keys verifiable during a rotation.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};
use skybridge_actors::signing::{Algorithm, SigningKey, generate_key};

/// `skybridge keys`.
#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    /// What to do with keys.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// The `keys` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a signing key pair and refresh DIR/jwks.json.
    Generate(GenerateArgs),
}

/// `skybridge keys generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Directory for the private key and jwks.json; created if missing.
    #[arg(long)]
    pub out: PathBuf,
    /// Signature algorithm: RS256 (3072-bit RSA), ES256 (P-256) or EdDSA (Ed25519).
    #[arg(long, default_value = "RS256", value_parser = parse_algorithm)]
    pub alg: Algorithm,
}

/// Runs `skybridge keys …`.
pub fn run(args: &KeysArgs) -> anyhow::Result<()> {
    match &args.command {
        KeysCommand::Generate(generate) => {
            let (key_path, kid) = generate_into(&generate.out, generate.alg)?;
            println!("Wrote {} (kid {kid}).", key_path.display());
            println!("Wrote {}.", generate.out.join("jwks.json").display());
            Ok(())
        }
    }
}

/// Generates a key in `dir` and rewrites `dir/jwks.json`; returns the key file and its kid.
pub fn generate_into(dir: &Path, alg: Algorithm) -> anyhow::Result<(PathBuf, String)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (pem, jwk) = generate_key(alg).context("cannot generate the key")?;
    let kid = jwk["kid"].as_str().context("generated key has no kid")?.to_owned();
    let key_path = dir.join(format!("{kid}.pem"));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .with_context(|| format!("cannot create {}", key_path.display()))?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", key_path.display()))?;
    write_jwks(dir)?;
    Ok((key_path, kid))
}

/// Rewrites `dir/jwks.json` from the `*.pem` keys in `dir`, through a temporary file so a
/// reader never sees half a document.
fn write_jwks(dir: &Path) -> anyhow::Result<()> {
    let mut keys: Vec<Value> = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pem") {
            continue;
        }
        let pem =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let key = SigningKey::from_pem(&pem)
            .with_context(|| format!("{} is not a usable signing key", path.display()))?;
        keys.push(key.public_jwk().clone());
    }
    keys.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
    let target = dir.join("jwks.json");
    let temporary = dir.join(".jwks.json.tmp");
    let text = serde_json::to_string_pretty(&json!({ "keys": keys }))?;
    std::fs::write(&temporary, text + "\n")
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &target)
        .with_context(|| format!("cannot replace {}", target.display()))?;
    Ok(())
}

fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    name.parse().map_err(|err: skybridge_actors::signing::SigningError| err.to_string())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn writes_a_private_key_0600_and_a_jwks_with_every_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("keys");
        let (first, first_kid) = generate_into(&out, Algorithm::ES256).expect("first");
        let (_, second_kid) = generate_into(&out, Algorithm::EdDSA).expect("second");
        let mode = std::fs::metadata(&first).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let pem = std::fs::read(&first).expect("read");
        assert_eq!(SigningKey::from_pem(&pem).expect("loads").kid(), first_kid);
        let jwks: Value =
            serde_json::from_slice(&std::fs::read(out.join("jwks.json")).expect("jwks"))
                .expect("json");
        let mut kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        kids.sort_unstable();
        let mut expected = vec![first_kid.as_str(), second_kid.as_str()];
        expected.sort_unstable();
        assert_eq!(kids, expected);
        assert!(jwks["keys"].as_array().expect("keys").iter().all(|k| k.get("d").is_none()));
        assert!(parse_algorithm("HS256").is_err());
    }
}
