//! Injected failures. A fault is matched by method and path prefix and fires a number of
//! times or with a probability (from the org's seeded RNG, so runs repeat). It only
//! decides *whether* and *what*; the request pipeline (`pipeline`) produces the response.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum FaultKind {
    /// 401 `INVALID_SESSION_ID`, as when the session timed out.
    ExpiredSession,
    /// 403 `REQUEST_LIMIT_EXCEEDED`.
    RequestLimitExceeded,
    /// 400 `UNABLE_TO_LOCK_ROW`, as a write racing another one gets.
    UnableToLockRow,
    /// 503 with an HTML maintenance page (`text/html`), as a proxy answers.
    ServiceUnavailable,
    /// 500 `UNKNOWN_EXCEPTION`.
    UnknownException,
    /// The connection is closed (reset) without any answer.
    ConnectionReset,
    /// The request is carried out (the write happens), then the answer is lost.
    CommitThenFail {
        #[serde(default)]
        after: AfterCommit,
    },
    /// Answers with exactly these bytes, without carrying the request out: for answers
    /// no well-behaved server produces, such as JSON with an invalid UTF-8 sequence. Over
    /// `/__admin` the body travels as `bodyBase64`. The answer still counts against the API
    /// limit and carries `Sforce-Limit-Info`.
    RawAnswer {
        status: u16,
        #[serde(rename = "contentType")]
        content_type: String,
        #[serde(rename = "bodyBase64", with = "base64_body")]
        body: Vec<u8>,
    },
}

impl FaultKind {
    /// `RawAnswer` with a JSON content type, as Salesforce labels its answers.
    pub fn raw_json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        FaultKind::RawAnswer { status, content_type: "application/json;charset=UTF-8".into(), body: body.into() }
    }
}

mod base64_body {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(body))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// How the answer of a committed request is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AfterCommit {
    #[default]
    UnknownException,
    ConnectionReset,
}

/// When a matching fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Trigger {
    /// The next `n` matching requests.
    Times(u32),
    /// Each matching request with this probability (0.0–1.0), for as long as it is queued.
    Probability(f64),
}

/// A fault to inject: `Fault::new(FaultKind::UnknownException).on("POST", "/services/data/v62.0/sobjects").times(1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Matches paths starting with this (`""` matches every path).
    #[serde(default)]
    pub path_prefix: String,
    #[serde(default = "once")]
    pub trigger: Trigger,
}

fn once() -> Trigger {
    Trigger::Times(1)
}

impl Fault {
    /// Fires once, on any request.
    pub fn new(kind: FaultKind) -> Self {
        Fault { kind, method: None, path_prefix: String::new(), trigger: once() }
    }
    pub fn on(mut self, method: &str, path_prefix: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self.path_prefix = path_prefix.to_string();
        self
    }
    pub fn times(mut self, n: u32) -> Self {
        self.trigger = Trigger::Times(n);
        self
    }
    pub fn with_probability(mut self, p: f64) -> Self {
        self.trigger = Trigger::Probability(p.clamp(0.0, 1.0));
        self
    }
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)) && path.starts_with(&self.path_prefix)
    }
}

#[derive(Debug)]
pub(crate) struct FaultBook {
    rules: Vec<Fault>,
    rng: ChaCha8Rng,
}

impl FaultBook {
    pub(crate) fn new(rng: ChaCha8Rng) -> Self {
        FaultBook { rules: Vec::new(), rng }
    }

    pub(crate) fn push(&mut self, fault: Fault) {
        self.rules.push(fault);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn pending(&self) -> &[Fault] {
        &self.rules
    }

    /// The fault this request meets, if any; counted faults are used up in queue order.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let idx = self.rules.iter().position(|f| {
            f.matches(method, path) && !matches!(f.trigger, Trigger::Times(0))
        })?;
        let fault = &mut self.rules[idx];
        let kind = fault.kind.clone();
        match &mut fault.trigger {
            Trigger::Times(n) => {
                *n -= 1;
                if *n == 0 {
                    self.rules.remove(idx);
                }
                Some(kind)
            }
            Trigger::Probability(p) => {
                let p = *p;
                (self.rng.gen_bool(p)).then_some(kind)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn counted_faults_fire_exactly_that_many_times_on_matching_requests() {
        let mut book = FaultBook::new(ChaCha8Rng::seed_from_u64(7));
        book.push(Fault::new(FaultKind::UnknownException).on("POST", "/services/data/v62.0/sobjects").times(2));
        assert_eq!(book.take("GET", "/services/data/v62.0/sobjects/Task"), None, "the method must match");
        assert!(book.take("POST", "/services/data/v62.0/sobjects/Task").is_some());
        assert!(book.take("post", "/services/data/v62.0/sobjects/Task").is_some());
        assert_eq!(book.take("POST", "/services/data/v62.0/sobjects/Task"), None, "used up after two");
    }

    #[test]
    fn the_admin_json_form_of_a_fault_reads_back() {
        let f: Fault = serde_json::from_str(
            r#"{"kind":"commitThenFail","after":"connectionReset","method":"POST","pathPrefix":"/x","trigger":{"times":3}}"#,
        )
        .unwrap();
        assert_eq!(f.kind, FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset });
        assert_eq!(f.trigger, Trigger::Times(3));
    }

    #[test]
    fn a_raw_answer_carries_its_bytes_as_base64_over_the_admin_api() {
        let f: Fault = serde_json::from_str(
            r#"{"kind":"rawAnswer","status":200,"contentType":"application/json","bodyBase64":"eyJhIjoi/yJ9"}"#,
        )
        .unwrap();
        let FaultKind::RawAnswer { status, content_type, body } = &f.kind else { panic!("a raw answer") };
        assert_eq!((*status, content_type.as_str()), (200, "application/json"));
        assert_eq!(body.as_slice(), b"{\"a\":\"\xff\"}", "the invalid byte survives");
        let back = serde_json::to_value(&f).unwrap();
        assert_eq!(back["bodyBase64"], "eyJhIjoi/yJ9");
    }
}
