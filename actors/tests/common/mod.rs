pub(crate) mod fake_idp;
