//! A certificate for the fakes' HTTPS listener, generated at test time: self-signed, valid
//! for IP 127.0.0.1, trusted by the minter only through `MinterOptions::extra_roots_pem`.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{SslAcceptor, SslAcceptorBuilder, SslMethod};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};

/// The certificate (PEM) and an acceptor serving it.
pub fn acceptor() -> (Vec<u8>, SslAcceptorBuilder) {
    let key = PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey");
    let cert = certificate(&key);
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).expect("acceptor");
    acceptor.set_private_key(&key).expect("key");
    acceptor.set_certificate(&cert).expect("cert");
    (cert.to_pem().expect("pem"), acceptor)
}

fn certificate(key: &PKey<Private>) -> X509 {
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "skybridge test fakes").expect("cn");
    let name = name.build();
    let mut serial = BigNum::new().expect("bn");
    serial.rand(64, MsbOption::MAYBE_ZERO, false).expect("rand");
    let mut builder = X509::builder().expect("builder");
    builder.set_version(2).expect("version");
    builder.set_serial_number(&serial.to_asn1_integer().expect("serial")).expect("serial");
    builder.set_subject_name(&name).expect("subject");
    builder.set_issuer_name(&name).expect("issuer");
    builder.set_pubkey(key).expect("pubkey");
    builder.set_not_before(&Asn1Time::days_from_now(0).expect("time")).expect("nb");
    builder.set_not_after(&Asn1Time::days_from_now(1).expect("time")).expect("na");
    builder
        .append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
        .expect("bc");
    let usage = KeyUsage::new().digital_signature().key_encipherment().key_cert_sign().build();
    builder.append_extension(usage.expect("ku")).expect("ku");
    let san =
        SubjectAlternativeName::new().ip("127.0.0.1").build(&builder.x509v3_context(None, None));
    builder.append_extension(san.expect("san")).expect("san");
    builder.sign(key, MessageDigest::sha256()).expect("sign");
    builder.build()
}
