//! (temporary: replaced by the real X.509 summary module)
use super::{ParseError, ParseResult};
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    #[serde(skip)]
    pub not_before: time::OffsetDateTime,
    #[serde(skip)]
    pub not_after: time::OffsetDateTime,
    pub self_signed: bool,
    pub key: String,
    pub signature: String,
    pub san: Vec<String>,
    pub serial: String,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    Expired,
    NotYetValid,
}
impl CertSummary {
    pub fn validity_at(&self, t: time::OffsetDateTime) -> Validity {
        if t < self.not_before {
            Validity::NotYetValid
        } else if t > self.not_after {
            Validity::Expired
        } else {
            Validity::Valid
        }
    }
}
pub fn summarize(_der: &[u8]) -> ParseResult<CertSummary> {
    Err(ParseError::Malformed("stub"))
}
