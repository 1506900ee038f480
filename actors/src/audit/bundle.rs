//! What one spool file holds: a batch's encoded logs request and, when the batch has sampled
//! records, the encoded traces request of the same records.
//!
//! Spans travel in the same file as their log records so they share its durability: written
//! and fsync'd once, replayed after an outage or a restart in the same order, removed together.
//!
//! Layout. A batch without spans is the bare protobuf body of the logs request, exactly what
//! the spool held before spans existed, so files left by an older version still replay. A batch
//! with spans starts with [`MAGIC`], then the logs body's length and the span count (both u64,
//! big-endian), the logs body, and the traces body up to the end. A protobuf message never
//! starts with a zero byte (field number 0 is invalid), so the two layouts cannot be confused.
//! Shortcoming: an older version that finds a file with spans in its spool sends it as logs;
//! the collector refuses it (400) and the file is kept aside in `rejected/`, not lost.

/// First bytes of a file that holds spans.
const MAGIC: &[u8; 8] = b"\0skyb01\n";
const HEADER: usize = MAGIC.len() + 16;

/// One spooled batch, ready to POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bundle {
    /// The `ExportLogsServiceRequest` body.
    pub(crate) logs: Vec<u8>,
    /// The `ExportTraceServiceRequest` body and its number of spans.
    pub(crate) traces: Option<(Vec<u8>, u64)>,
}

/// Lays out a batch for the spool.
pub(crate) fn encode(logs: Vec<u8>, traces: Option<(Vec<u8>, u64)>) -> Vec<u8> {
    let Some((traces, spans)) = traces else {
        return logs;
    };
    let mut out = Vec::with_capacity(HEADER + logs.len() + traces.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(logs.len() as u64).to_be_bytes());
    out.extend_from_slice(&spans.to_be_bytes());
    out.extend_from_slice(&logs);
    out.extend_from_slice(&traces);
    out
}

/// Reads a spool file back; `None` when it claims to hold spans but is cut short.
pub(crate) fn decode(mut file: Vec<u8>) -> Option<Bundle> {
    if !file.starts_with(MAGIC) {
        return Some(Bundle { logs: file, traces: None });
    }
    let logs_len = u64::from_be_bytes(file.get(MAGIC.len()..MAGIC.len() + 8)?.try_into().ok()?);
    let spans = u64::from_be_bytes(file.get(MAGIC.len() + 8..HEADER)?.try_into().ok()?);
    let logs_end = HEADER.checked_add(usize::try_from(logs_len).ok()?)?;
    if logs_end > file.len() {
        return None;
    }
    let traces = file.split_off(logs_end);
    let logs = file.split_off(HEADER);
    Some(Bundle { logs, traces: Some((traces, spans)) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_and_without_spans() {
        let plain = encode(b"\x0alogs".to_vec(), None);
        assert_eq!(plain, b"\x0alogs", "a batch without spans is the bare logs body");
        assert_eq!(decode(plain).unwrap(), Bundle { logs: b"\x0alogs".to_vec(), traces: None });

        let both = encode(b"\x0alogs".to_vec(), Some((b"\x0atraces".to_vec(), 4)));
        let bundle = decode(both).unwrap();
        assert_eq!(bundle.logs, b"\x0alogs");
        assert_eq!(bundle.traces, Some((b"\x0atraces".to_vec(), 4)));
        let empty_logs = decode(encode(Vec::new(), Some((b"t".to_vec(), 1)))).unwrap();
        assert_eq!((empty_logs.logs.len(), empty_logs.traces), (0, Some((b"t".to_vec(), 1))));
    }

    #[test]
    fn a_torn_file_with_spans_is_unreadable_not_a_panic() {
        let both = encode(b"\x0alogs".to_vec(), Some((b"\x0atraces".to_vec(), 4)));
        for cut in [MAGIC.len(), HEADER - 1, HEADER + 2] {
            assert_eq!(decode(both[..cut].to_vec()), None, "cut at {cut}");
        }
        let mut huge = both.clone();
        huge[MAGIC.len()..MAGIC.len() + 8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(decode(huge), None);
    }
}
