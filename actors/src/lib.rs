//! The background parts of Skybridge that outlive a single request: today the audit trail's
//! sink ([`audit`]), which batches, spools and exports one record per request.

pub mod audit;
