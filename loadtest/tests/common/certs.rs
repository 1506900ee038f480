//! Certificates made at test time with openssl: a CA, a server certificate for `localhost`
//! and 127.0.0.1, and a client certificate for mutual TLS, written as PEM files.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};

/// PEM file paths.
pub struct Certs {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl Certs {
    pub fn generate(dir: &Path) -> Self {
        let ca_key = key();
        let ca = build("loadtest-ca", &ca_key, None, |builder| {
            let constraints = BasicConstraints::new().critical().ca().build().expect("test step");
            builder.append_extension(constraints).expect("test step");
        });
        let server_key = key();
        let server = build("localhost", &server_key, Some((&ca, &ca_key)), |builder| {
            let context = builder.x509v3_context(Some(&ca), None);
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&context)
                .expect("test step");
            builder.append_extension(san).expect("test step");
            builder
                .append_extension(ExtendedKeyUsage::new().server_auth().build().expect("test step"))
                .expect("test step");
        });
        let client_key = key();
        let client = build("loadtest-client", &client_key, Some((&ca, &ca_key)), |builder| {
            builder
                .append_extension(ExtendedKeyUsage::new().client_auth().build().expect("test step"))
                .expect("test step");
        });
        let write = |name: &str, pem: Vec<u8>| {
            let path = dir.join(name);
            std::fs::write(&path, pem).expect("test step");
            path
        };
        Self {
            ca: write("ca.pem", ca.to_pem().expect("test step")),
            server_cert: write("server.pem", server.to_pem().expect("test step")),
            server_key: write(
                "server-key.pem",
                server_key.private_key_to_pem_pkcs8().expect("test step"),
            ),
            client_cert: write("client.pem", client.to_pem().expect("test step")),
            client_key: write(
                "client-key.pem",
                client_key.private_key_to_pem_pkcs8().expect("test step"),
            ),
        }
    }
}

fn key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("test step");
    PKey::from_ec_key(EcKey::generate(&group).expect("test step")).expect("test step")
}

/// A certificate for `common_name`, signed by `issuer` or self-signed.
fn build(
    common_name: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    extend: impl FnOnce(&mut openssl::x509::X509Builder),
) -> X509 {
    let mut name = X509NameBuilder::new().expect("test step");
    name.append_entry_by_text("CN", common_name).expect("test step");
    let name = name.build();
    let mut builder = X509::builder().expect("test step");
    builder.set_version(2).expect("test step");
    let serial =
        BigNum::from_u32(rand_serial()).expect("test step").to_asn1_integer().expect("test step");
    builder.set_serial_number(&serial).expect("test step");
    builder.set_subject_name(&name).expect("test step");
    builder.set_pubkey(key).expect("test step");
    builder.set_not_before(&Asn1Time::days_from_now(0).expect("test step")).expect("test step");
    builder.set_not_after(&Asn1Time::days_from_now(2).expect("test step")).expect("test step");
    extend(&mut builder);
    match issuer {
        Some((ca, ca_key)) => {
            builder.set_issuer_name(ca.subject_name()).expect("test step");
            builder.sign(ca_key, MessageDigest::sha256()).expect("test step");
        }
        None => {
            builder.set_issuer_name(&name).expect("test step");
            builder.sign(key, MessageDigest::sha256()).expect("test step");
        }
    }
    builder.build()
}

fn rand_serial() -> u32 {
    let mut bytes = [0u8; 4];
    openssl::rand::rand_bytes(&mut bytes).expect("test step");
    u32::from_be_bytes(bytes) >> 1
}
