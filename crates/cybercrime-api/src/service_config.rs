//! The gRPC service config of the contract (`service_config.json`, the standard JSON of gRPC's
//! `grpc.service_config`): per method a timeout and, for reads, a retry policy on UNAVAILABLE.
//!
//! The rule: reads (`Get*`, `List*`, `Generate*` reports, and the start of `Watch*` streams) are retried on
//! UNAVAILABLE, at most 4 attempts with exponential backoff; writes (`Create*`, `Record*`, `Update*`,
//! `Delete*`) are never retried by the channel, since a retried write without a `request_id` could apply twice. A
//! caller that sets `request_id` on a write may retry it itself: the server answers a repeat with the first
//! answer (AIP-155). Timeouts: 10 s for reads, 120 s for reports, 30 s for writes, none for watch streams.
//!
//! The same file is what the Python example passes as `grpc.service_config`; [`ServiceConfig::contract`] is the
//! Rust side's copy (`include_str!`).

use std::time::Duration;

use serde::Deserialize;

/// The JSON text of the contract's service config.
pub const SERVICE_CONFIG_JSON: &str = include_str!("../service_config.json");

/// A gRPC service config (the parts this crate applies: `methodConfig` with `timeout` and `retryPolicy`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfig {
    /// The method configs, in order.
    #[serde(default)]
    pub method_config: Vec<MethodConfig>,
}

/// The config of a set of methods.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodConfig {
    /// The methods: a service and method, or a whole service when `method` is absent.
    pub name: Vec<MethodName>,
    /// The deadline of one call (all its attempts), e.g. `"10s"`.
    #[serde(default, deserialize_with = "opt_duration")]
    pub timeout: Option<Duration>,
    /// When and how often to retry.
    #[serde(default)]
    pub retry_policy: Option<RetryPolicy>,
}

/// A method (or a whole service) a [`MethodConfig`] applies to.
#[derive(Debug, Clone, Deserialize)]
pub struct MethodName {
    /// The fully qualified service, e.g. `coe.cybercrime.v1.TreatyService`.
    pub service: String,
    /// The method, e.g. `GetTreatyStatus`; absent for every method of the service.
    #[serde(default)]
    pub method: Option<String>,
}

/// gRPC's retry policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Attempts in all, the first included (gRPC caps it at 5).
    pub max_attempts: u32,
    /// The backoff before the first retry.
    #[serde(deserialize_with = "duration")]
    pub initial_backoff: Duration,
    /// The longest backoff.
    #[serde(deserialize_with = "duration")]
    pub max_backoff: Duration,
    /// The factor between successive backoffs.
    pub backoff_multiplier: f64,
    /// The status codes retried, e.g. `["UNAVAILABLE"]`.
    pub retryable_status_codes: Vec<String>,
}

impl RetryPolicy {
    /// Whether a status code (numeric) is retried.
    pub fn retries(&self, code: tonic::Code) -> bool {
        self.retryable_status_codes.iter().any(|c| code_name(code) == c.as_str())
    }

    /// The backoff before retry `n` (1 for the first retry), without the jitter gRPC adds.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = self.backoff_multiplier.powi(n.saturating_sub(1).min(30) as i32);
        self.initial_backoff.mul_f64(factor).min(self.max_backoff)
    }
}

fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let seconds = text.strip_suffix('s').ok_or_else(|| format!("duration {text:?} does not end in 's'"))?;
    let seconds: f64 = seconds.parse().map_err(|_| format!("duration {text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("duration {text:?}: {e}"))
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

fn opt_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    Option::<String>::deserialize(d)?.map(|t| parse_duration(&t).map_err(serde::de::Error::custom)).transpose()
}

impl ServiceConfig {
    /// The contract's service config ([`SERVICE_CONFIG_JSON`]).
    pub fn contract() -> Self {
        Self::from_json(SERVICE_CONFIG_JSON).expect("the checked-in service_config.json parses (tested)")
    }

    /// Parses a service config.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The config of a method, given its HTTP/2 path (`/coe.cybercrime.v1.TreatyService/GetTreaty`): the entry
    /// naming the method, else the entry naming its whole service (gRPC's rule).
    pub fn method(&self, path: &str) -> Option<&MethodConfig> {
        let (service, method) = path.trim_start_matches('/').split_once('/')?;
        let named = |exact: bool| {
            self.method_config.iter().find(|c| {
                c.name.iter().any(|n| {
                    n.service == service
                        && match &n.method {
                            Some(m) => exact && m == method,
                            None => !exact,
                        }
                })
            })
        };
        named(true).or_else(|| named(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_writes_do_not() {
        let config = ServiceConfig::contract();
        let read = config.method("/coe.cybercrime.v1.TreatyService/GetTreatyStatus").unwrap();
        let policy = read.retry_policy.as_ref().unwrap();
        assert!(policy.retries(tonic::Code::Unavailable));
        assert!(!policy.retries(tonic::Code::Internal));
        assert_eq!(read.timeout, Some(Duration::from_secs(10)));
        assert!((3..=5).contains(&policy.max_attempts));
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(2), Duration::from_millis(400));
        assert_eq!(policy.backoff(9), Duration::from_secs(2));
        // A whole service named without methods.
        assert!(config.method("/coe.cybercrime.v1.CountryService/GetCountry").unwrap().retry_policy.is_some());
        // Reports: longer.
        let report = config.method("/coe.cybercrime.v1.ReportService/GenerateProgressReport").unwrap();
        assert_eq!(report.timeout, Some(Duration::from_secs(120)));
        // Watch streams: retried at the start, no deadline.
        let watch = config.method("/coe.cybercrime.v1.ChangeService/WatchChanges").unwrap();
        assert!(watch.timeout.is_none() && watch.retry_policy.is_some());
        for write in [
            "/coe.cybercrime.v1.TreatyService/RecordTreatyAction",
            "/coe.cybercrime.v1.ActivityService/CreateActivity",
            "/coe.cybercrime.v1.ActivityService/DeleteActivity",
            "/coe.cybercrime.v1.AdminService/DeleteUnreadableRecord",
        ] {
            assert!(config.method(write).unwrap().retry_policy.is_none(), "{write}");
        }
        assert!(config.method("/x.Y/Z").is_none());
    }

    /// Every method of every service of the descriptor set has an entry, and every entry names a real method.
    #[test]
    fn every_method_is_configured() {
        use prost::Message;
        let fds = prost_types_fds(crate::FILE_DESCRIPTOR_SET);
        let config = ServiceConfig::contract();
        let mut methods = Vec::new();
        for file in fds.file {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    assert!(config.method(&path).is_some(), "{path} has no method config");
                    methods.push(path);
                }
            }
        }
        for entry in &config.method_config {
            for n in &entry.name {
                assert!(
                    methods.iter().any(|m| m.trim_start_matches('/').starts_with(&format!(
                        "{}/{}",
                        n.service,
                        n.method.as_deref().unwrap_or("")
                    ))),
                    "{n:?} names no method of the contract"
                );
            }
        }
        fn prost_types_fds(bytes: &[u8]) -> prost_types::FileDescriptorSet {
            prost_types::FileDescriptorSet::decode(bytes).unwrap()
        }
    }

    #[test]
    fn bad_durations_are_errors() {
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("xs").is_err());
        assert_eq!(parse_duration("0.5s").unwrap(), Duration::from_millis(500));
    }
}
