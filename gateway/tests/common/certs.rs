//! Certificates generated at test time with openssl: a CA, server certificates for
//! `localhost`/`127.0.0.1`, client certificates, and a second CA nobody trusts.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509NameBuilder};

/// One certificate and key written as PEM files.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Every certificate a test needs, in one directory.
pub struct Certs {
    pub ca: PathBuf,
    pub upstream: Pair,
    pub gateway_server: Pair,
    pub gateway_client: Pair,
    pub caller: Pair,
    /// A server certificate from a CA nobody trusts.
    pub rogue_upstream: Pair,
    /// A client certificate from a CA nobody trusts.
    pub rogue_caller: Pair,
}

struct Authority {
    cert: X509,
    key: PKey<Private>,
}

fn key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey")
}

fn name(cn: &str) -> openssl::x509::X509Name {
    let mut builder = X509NameBuilder::new().expect("name");
    builder.append_entry_by_text("CN", cn).expect("cn");
    builder.build()
}

fn serial() -> openssl::asn1::Asn1Integer {
    let mut bn = BigNum::new().expect("bn");
    bn.rand(64, MsbOption::MAYBE_ZERO, false).expect("rand");
    bn.to_asn1_integer().expect("serial")
}

fn authority(cn: &str) -> Authority {
    let key = key();
    let mut builder = X509::builder().expect("builder");
    builder.set_version(2).expect("version");
    builder.set_serial_number(&serial()).expect("serial");
    builder.set_subject_name(&name(cn)).expect("subject");
    builder.set_issuer_name(&name(cn)).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    builder.set_not_before(&Asn1Time::days_from_now(0).expect("time")).expect("nb");
    builder.set_not_after(&Asn1Time::days_from_now(2).expect("time")).expect("na");
    builder
        .append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
        .expect("ext");
    builder
        .append_extension(KeyUsage::new().key_cert_sign().crl_sign().build().expect("ku"))
        .expect("ext");
    builder.sign(&key, MessageDigest::sha256()).expect("sign");
    Authority { cert: builder.build(), key }
}

fn issue(ca: &Authority, cn: &str, server: bool, dir: &Path, file: &str) -> Pair {
    let key = key();
    let mut builder = X509::builder().expect("builder");
    builder.set_version(2).expect("version");
    builder.set_serial_number(&serial()).expect("serial");
    builder.set_subject_name(&name(cn)).expect("subject");
    builder.set_issuer_name(ca.cert.subject_name()).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    builder.set_not_before(&Asn1Time::days_from_now(0).expect("time")).expect("nb");
    builder.set_not_after(&Asn1Time::days_from_now(2).expect("time")).expect("na");
    let context = builder.x509v3_context(Some(&ca.cert), None);
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&context)
        .expect("san");
    builder.append_extension(san).expect("ext");
    let usage = if server {
        ExtendedKeyUsage::new().server_auth().build()
    } else {
        ExtendedKeyUsage::new().client_auth().build()
    };
    builder.append_extension(usage.expect("eku")).expect("ext");
    builder.sign(&ca.key, MessageDigest::sha256()).expect("sign");
    let cert = builder.build();
    let pair =
        Pair { cert: dir.join(format!("{file}.pem")), key: dir.join(format!("{file}-key.pem")) };
    std::fs::write(&pair.cert, cert.to_pem().expect("pem")).expect("write cert");
    std::fs::write(&pair.key, key.private_key_to_pem_pkcs8().expect("pem")).expect("write key");
    pair
}

impl Certs {
    /// Generates everything into `dir`.
    pub fn generate(dir: &Path) -> Self {
        let ca = authority("Skybridge test CA");
        let rogue = authority("Rogue CA");
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, ca.cert.to_pem().expect("pem")).expect("write ca");
        Certs {
            ca: ca_path,
            upstream: issue(&ca, "upstream", true, dir, "upstream"),
            gateway_server: issue(&ca, "gateway", true, dir, "gateway"),
            gateway_client: issue(&ca, "gateway-client", false, dir, "gateway-client"),
            caller: issue(&ca, "caller", false, dir, "caller"),
            rogue_upstream: issue(&rogue, "rogue-upstream", true, dir, "rogue-upstream"),
            rogue_caller: issue(&rogue, "rogue-caller", false, dir, "rogue-caller"),
        }
    }
}
