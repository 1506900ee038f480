//! Parsing real-world and odd key sets, RFC vectors, and `Cache-Control` handling.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::rsa::Rsa;
use serde_json::{Value, json};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/oidc/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn kids(set: &ParsedSet) -> Vec<String> {
    set.keys.iter().map(|k| k.kid.clone().unwrap_or_default()).collect()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn real_world_sets_load_every_signing_key() {
    for (file, count) in [
        ("entra_v1_common_discovery_keys_jwks.json", 2),
        ("entra_v2_common_jwks.json", 7),
        ("entra_v2_organizations_jwks.json", 6),
        ("google_oauth2_v3_certs_jwks.json", 2),
        ("auth0_common_jwks.json", 2),
        ("okta_org_jwks.json", 2),
    ] {
        let set = parse_jwks(&fixture(file)).unwrap();
        assert_eq!(set.keys.len(), count, "{file}");
        assert!(set.skipped.is_empty(), "{file}: {:?}", set.skipped);
        for key in &set.keys {
            assert!(matches!(key.kind, KeyKind::Rsa { bits } if bits >= 2048), "{file}");
            assert!(key.accepts(Algorithm::Rs256) && !key.accepts(Algorithm::Es256));
        }
    }
}

#[test]
fn entra_v2_keys_carry_their_issuer_and_google_keys_their_alg() {
    let entra = parse_jwks(&fixture("entra_v2_common_jwks.json")).unwrap();
    assert!(kids(&entra).contains(&"Mc7l3Iz93g7uwgNeEmmw_WYGPko".to_owned()));
    let issuers: Vec<_> = entra.keys.iter().filter_map(|k| k.issuer.as_deref()).collect();
    assert_eq!(issuers.len(), 7);
    assert!(issuers.contains(&"https://login.microsoftonline.com/{tenantid}/v2.0"));
    let google = parse_jwks(&fixture("google_oauth2_v3_certs_jwks.json")).unwrap();
    assert!(google.keys.iter().all(|k| k.alg == Some(Algorithm::Rs256)));
    assert!(google.keys.iter().all(|k| !k.accepts(Algorithm::Ps256)));
}

#[test]
fn discovery_fixtures_name_their_issuers() {
    for (file, issuer) in [
        (
            "entra_v2_common_openid-configuration.json",
            "https://login.microsoftonline.com/{tenantid}/v2.0",
        ),
        ("entra_v1_common_openid-configuration.json", "https://sts.windows.net/{tenantid}/"),
        ("auth0_common_openid-configuration.json", "https://common.auth0.com/"),
        ("google_accounts_openid-configuration.json", "https://accounts.google.com"),
    ] {
        let doc: Value = serde_json::from_slice(&fixture(file)).unwrap();
        assert_eq!(doc["issuer"], issuer, "{file}");
        assert!(doc["jwks_uri"].as_str().is_some_and(|u| u.starts_with("https://")), "{file}");
    }
}

fn verify_vector(file: &str, alg: Algorithm) {
    let vector: Value = serde_json::from_slice(&fixture(file)).unwrap();
    let key = parse_jwk(vector["input"]["key"].as_object().unwrap()).unwrap();
    let compact = vector["output"]["compact"].as_str().unwrap();
    let (input, signature) = compact.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert!(key.verify(alg, input.as_bytes(), &signature), "{file}");
    let mut tampered = signature.clone();
    tampered[10] ^= 1;
    assert!(!key.verify(alg, input.as_bytes(), &tampered), "{file} tampered");
    assert!(!key.verify(alg, b"other input", &signature), "{file} other input");
}

#[test]
fn rfc_vectors_verify() {
    verify_vector("rfc7520_jws_4_1.rsa_v15_signature.json", Algorithm::Rs256);
    verify_vector("rfc7520_curve25519_jws.json", Algorithm::EdDsa);
}

#[test]
fn symmetric_vector_key_is_skipped() {
    let vector: Value =
        serde_json::from_slice(&fixture("rfc7520_jws_4_4.hmac-sha2_integrity_protection.json"))
            .unwrap();
    let err = parse_jwk(vector["input"]["key"].as_object().unwrap()).unwrap_err();
    assert_eq!(err, SkipReason::UnsupportedAlg("HS256".to_owned()));
    let set = json!({ "keys": [vector["input"]["key"]] }).to_string();
    assert!(matches!(parse_jwks(set.as_bytes()), Err(JwksError::NoUsableKey { skipped: 1 })));
}

fn rsa_jwk(bits: u32) -> Value {
    let rsa = Rsa::generate(bits).unwrap();
    json!({
        "kty": "RSA",
        "kid": format!("rsa{bits}"),
        "n": b64(&rsa.n().to_vec()),
        "e": b64(&rsa.e().to_vec()),
    })
}

fn reason(jwk: Value) -> SkipReason {
    parse_jwk(jwk.as_object().unwrap()).unwrap_err()
}

#[test]
fn unusable_keys_are_skipped_with_a_reason() {
    let good = rsa_jwk(2048);
    let mut enc = good.clone();
    enc["use"] = json!("enc");
    assert_eq!(reason(enc), SkipReason::NotForSigning);
    let mut ops = good.clone();
    ops["key_ops"] = json!(["encrypt"]);
    assert_eq!(reason(ops), SkipReason::NotForSigning);
    assert_eq!(reason(rsa_jwk(1024)), SkipReason::WeakRsa(1024));
    assert_eq!(
        reason(json!({"kty": "oct", "k": "AAAA"})),
        SkipReason::UnsupportedKty("oct".into())
    );
    assert_eq!(
        reason(json!({"kty": "EC", "crv": "P-192", "x": "AA", "y": "AA"})),
        SkipReason::UnsupportedCurve("P-192".into())
    );
    assert_eq!(
        reason(json!({"kty": "OKP", "crv": "X25519", "x": b64(&[9; 32])})),
        SkipReason::NotForSigning
    );
    let mut oaep = good.clone();
    oaep["alg"] = json!("RSA-OAEP");
    assert_eq!(reason(oaep), SkipReason::UnsupportedAlg("RSA-OAEP".into()));
    let mut wrong_alg = good.clone();
    wrong_alg["alg"] = json!("ES256");
    assert_eq!(reason(wrong_alg), SkipReason::UnsupportedAlg("ES256".into()));
    let mut bad_n = good.clone();
    bad_n["n"] = json!("!!not base64!!");
    assert_eq!(reason(bad_n), SkipReason::Malformed("n"));
    assert_eq!(reason(json!({"n": "AQAB"})), SkipReason::Malformed("no kty"));
    let off_curve = json!({"kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])});
    assert_eq!(reason(off_curve), SkipReason::Malformed("point not on curve"));
}

#[test]
fn a_set_keeps_its_usable_keys_and_skips_the_rest() {
    let doc = json!({ "keys": [
        rsa_jwk(1024), {"kty": "oct", "k": "AAAA"}, rsa_jwk(2048), rsa_jwk(2048), "not a key",
    ]});
    let set = parse_jwks(doc.to_string().as_bytes()).unwrap();
    assert_eq!(kids(&set), ["rsa2048"]);
    let reasons: Vec<_> = set.skipped.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(reasons.len(), 4);
    assert!(reasons.contains(&SkipReason::DuplicateKid));
    assert!(matches!(parse_jwks(b"[1,2]"), Err(JwksError::Invalid(_))));
    assert!(matches!(parse_jwks(b"<html>"), Err(JwksError::Invalid(_))));
    assert!(matches!(parse_jwks(br#"{"keys":[]}"#), Err(JwksError::NoUsableKey { skipped: 0 })));
}

#[test]
fn leading_zeros_in_rsa_members_are_tolerated() {
    let rsa = Rsa::generate(2048).unwrap();
    let mut n = vec![0, 0];
    n.extend(rsa.n().to_vec());
    let mut e = vec![0];
    e.extend(rsa.e().to_vec());
    let key =
        parse_jwk(json!({"kty": "RSA", "n": b64(&n), "e": b64(&e)}).as_object().unwrap()).unwrap();
    assert_eq!(key.kind, KeyKind::Rsa { bits: 2048 });
    assert!(key.kid.is_none());
}

#[test]
fn short_ec_coordinates_are_tolerated() {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let mut ctx = BigNumContext::new().unwrap();
    for _ in 0..10_000 {
        let key = EcKey::generate(&group).unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        key.public_key().affine_coordinates(&group, &mut x, &mut y, &mut ctx).unwrap();
        if x.num_bytes() == 32 {
            continue;
        }
        let y = b64(&y.to_vec_padded(32).unwrap());
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&x.to_vec()), "y": y});
        let parsed = parse_jwk(jwk.as_object().unwrap()).unwrap();
        assert_eq!(parsed.kind, KeyKind::Ec(Curve::P256));
        assert!(parsed.accepts(Algorithm::Es256) && !parsed.accepts(Algorithm::Es384));
        return;
    }
    panic!("no P-256 key with a short x coordinate in 10000 tries");
}

#[test]
fn cache_control_max_age_is_read() {
    assert_eq!(cache_max_age("public, max-age=3600"), Some(Duration::from_secs(3600)));
    assert_eq!(cache_max_age("Max-Age=\"60\", must-revalidate"), Some(Duration::from_secs(60)));
    assert_eq!(cache_max_age("no-store"), Some(Duration::ZERO));
    assert_eq!(cache_max_age("public"), None);
    assert_eq!(cache_max_age("max-age=abc"), None);
}

#[test]
fn snapshot_lookup_and_fingerprints() {
    let set = parse_jwks(&fixture("google_oauth2_v3_certs_jwks.json")).unwrap();
    let fingerprints: Vec<_> = set.keys.iter().map(|k| k.fingerprint).collect();
    let again = parse_jwks(&fixture("google_oauth2_v3_certs_jwks.json")).unwrap();
    assert_eq!(again.keys[0].fingerprint, fingerprints[0], "stable across parses");
    let snapshot = KeySnapshot::new(set.keys, vec![Algorithm::Rs256]);
    let kid = snapshot.keys()[1].kid.clone().unwrap();
    assert!(snapshot.by_kid(&kid).is_some_and(|k| k.fingerprint == fingerprints[1]));
    assert!(snapshot.holds(&fingerprints[0]) && !snapshot.holds(&[0; 32]));
    assert!(KeySnapshot::empty(vec![]).is_empty());
}
