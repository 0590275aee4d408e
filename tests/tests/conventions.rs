//! CETS 224 (the Second Additional Protocol) and the UN Convention against Cybercrime over grpcurl: their status
//! tables beside the published counts, the rule that only a Party to ETS 185 signs CETS 224, and a country's
//! standing under the Budapest Convention and the UN Convention side by side.

use std::process::Command;

use e2e_tests::{TestServer, grpcurl};
use serde_json::Value;

/// `grpcurl -plaintext FLAGS -d BODY ADDRESS coe.cybercrime.v1.METHOD`, its success and its output.
fn call(server: &TestServer, flags: &[&str], body: &str, method: &str) -> (bool, String) {
    let bin = grpcurl().expect("checked by the caller");
    let out = Command::new(bin)
        .arg("-plaintext")
        .args(flags)
        .args(["-d", body])
        .arg(&server.addr)
        .arg(format!("coe.cybercrime.v1.{method}"))
        .output()
        .expect("grpcurl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn json(ok: bool, out: &str) -> Value {
    assert!(ok, "{out}");
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The group of a status, from a TreatyStatus in JSON.
fn group<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["groups"].as_array().unwrap().iter().find(|g| g["status"] == name).unwrap_or_else(|| panic!("{status}"))
}

/// An integer field: int64 prints as a string in JSON, int32 as a number.
fn int(v: &Value) -> i64 {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn count(group: &Value) -> i64 {
    group["count"].as_i64().unwrap_or(0)
}

fn countries(group: &Value) -> Vec<String> {
    group["states"].as_array().into_iter().flatten().map(|e| e["country"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn cets_224_status_is_the_published_counts() {
    if grpcurl().is_none() {
        return;
    }
    let server = TestServer::start();
    let (ok, out) = call(&server, &[], r#"{"name": "treaties/224"}"#, "TreatyService/GetTreaty");
    let t = json(ok, &out);
    assert_eq!(t["displayName"], "CETS 224");
    assert_eq!(t["eligibility"], "parties-of treaties/185");
    assert_eq!(t["openedAt"], "Strasbourg");
    assert!(t["entryIntoForceRule"].as_str().unwrap().contains("5 consents"), "{t}");
    assert!(t["entryIntoForceRule"].as_str().unwrap().contains("a period no source here gives"), "{t}");
    assert!(t.get("computedEntryIntoForce").is_none() && t.get("coverage").is_none(), "{t}");

    // At 2024-06-20 the Council of Europe counted 44 signatories and 2 parties (S34): the record has them all.
    let body = r#"{"name": "treaties/224", "as_of": {"year": 2024, "month": 6, "day": 20}}"#;
    let (ok, out) = call(&server, &[], body, "TreatyService/GetTreatyStatus");
    let s = json(ok, &out);
    let (parties, signatories) = (group(&s, "STATE_STATUS_PARTY"), group(&s, "STATE_STATUS_SIGNATORY"));
    assert_eq!((count(parties), count(signatories)), (2, 44), "{out}");
    assert_eq!(countries(parties), ["countries/JP", "countries/RS"]);
    assert!(countries(signatories).contains(&"countries/SL".to_owned()), "{out}");
    let figure = |id: &str| {
        s["reportedFigures"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("{id}"))
            ["value"]
            .clone()
    };
    assert_eq!((int(&figure("cets224-parties-2024-06-20")), int(&figure("cets224-signatories-2024-06-20"))), (2, 44));
    // No complete chart of a date: the table claims nothing certain of a signatory's consent since.
    assert_eq!(s["pastRecord"], true);
    assert!(s.get("completeThrough").is_none(), "{out}");

    // Today: the third consent (Hungary, 2026-02-05; S7), not in force.
    let (ok, out) = call(&server, &[], r#"{"name": "treaties/224"}"#, "TreatyService/GetTreatyStatus");
    let s = json(ok, &out);
    assert_eq!(countries(group(&s, "STATE_STATUS_PARTY")), ["countries/HU", "countries/JP", "countries/RS"]);
}

#[test]
fn only_a_party_to_ets_185_signs_cets_224() {
    if grpcurl().is_none() {
        return;
    }
    let server = TestServer::start();
    let editor = ["-H", "authorization: Bearer editor-token"];
    // Benin acceded to ETS 185 on 2024-06-20 (S34): a signature of 2023 is refused, naming the rule.
    let record = concat!(
        r#"{"treaty_action": {"country": "countries/BJ", "treaty": "treaties/224", "kind": "ACTION_KIND_SIGNATURE", "#,
        r#""date": {"text": "2023-01-01"}, "sources": [{"document": "S7"}]}}"#
    );
    let (ok, out) = call(&server, &editor, record, "TreatyService/RecordTreatyAction");
    assert!(!ok, "{out}");
    assert!(out.contains("Code: FailedPrecondition"), "{out}");
    assert!(out.contains("NOT_A_PARTY_TO_CONVENTION"), "{out}");
    assert!(out.contains("its consent is dated 2024-06-20"), "{out}");
    // After its accession, the same signature is recorded.
    let (ok, out) =
        call(&server, &editor, &record.replace("2023-01-01", "2024-06-21"), "TreatyService/RecordTreatyAction");
    assert!(ok && out.contains("treaties/224/actions/BJ-signature"), "{out}");
}

#[test]
fn the_un_convention_and_a_country_under_both_conventions() {
    if grpcurl().is_none() {
        return;
    }
    let server = TestServer::start();
    let (ok, out) = call(&server, &[], r#"{"name": "treaties/18016"}"#, "TreatyService/GetTreaty");
    let t = json(ok, &out);
    assert_eq!(t["displayName"], "UN XVIII-16");
    assert_eq!(t["eligibility"], "all-states-and-organisations");
    assert_eq!(t["openedAt"], "Hanoi");
    assert!(t["entryIntoForceRule"].as_str().unwrap().starts_with("Article 65(1): 40 consents"), "{t}");

    // 72 signatories published (S42); the record names 54, the European Union among them, as an organisation.
    let body = r#"{"name": "treaties/18016", "as_of": {"year": 2025, "month": 11, "day": 16}}"#;
    let (ok, out) = call(&server, &[], body, "TreatyService/GetTreatyStatus");
    let s = json(ok, &out);
    let signatories = group(&s, "STATE_STATUS_SIGNATORY");
    assert_eq!(count(signatories), 54, "{out}");
    assert!(countries(signatories).contains(&"countries/EU".to_owned()));
    let published = s["reportedFigures"].as_array().unwrap();
    assert!(
        published.iter().any(|f| f["id"] == "un-cybercrime-signatories-2025-10-26" && int(&f["value"]) == 72),
        "{out}"
    );
    // Every other state may have signed: uncertain, never "not signed" for certain.
    let not_signed = group(&s, "STATE_STATUS_NOT_SIGNED");
    assert!(count(not_signed) > 50);
    assert!(not_signed["states"].as_array().unwrap().iter().all(|e| e["uncertain"] == true), "{out}");

    let (ok, out) = call(&server, &[], r#"{"name": "countries/EU"}"#, "CountryService/GetCountry");
    let eu = json(ok, &out);
    assert_eq!((eu["kind"].as_str(), eu["coeMember"].as_bool()), (Some("COUNTRY_KIND_REIO"), None), "{out}");
    let (ok, out) = call(&server, &[], r#"{"name": "countries/FR"}"#, "CountryService/GetCountry");
    assert_eq!(json(ok, &out)["kind"], "COUNTRY_KIND_STATE");

    // Germany, as at 2025-11-16: a signatory of ETS 185 and of CETS 224, nothing recorded under the UN
    // Convention: side by side in one answer.
    let body = r#"{"name": "countries/DE", "as_of": {"year": 2025, "month": 11, "day": 16}}"#;
    let (ok, out) = call(&server, &[], body, "CountryService/GetCountry");
    let de = json(ok, &out);
    let status = |treaty: &str| {
        de["treatyStatuses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["treaty"] == treaty)
            .unwrap_or_else(|| panic!("{treaty}: {out}"))
    };
    assert_eq!(status("treaties/185")["actions"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(status("treaties/224")["status"], "STATE_STATUS_SIGNATORY");
    let un = status("treaties/18016");
    assert_eq!(
        (un["status"].as_str(), un["entry"]["uncertain"].as_bool()),
        (Some("STATE_STATUS_NOT_SIGNED"), Some(true))
    );
    assert!(un.get("actions").is_none(), "{un}");
    let without: Vec<&str> =
        de["treatiesWithoutSteps"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(without, ["treaties/201", "treaties/18016"], "{out}");
    // France signed all four it may: only CETS 201 has no recorded step.
    let body = r#"{"name": "countries/FR", "as_of": {"year": 2025, "month": 11, "day": 16}}"#;
    let (ok, out) = call(&server, &[], body, "CountryService/GetCountry");
    let fr = json(ok, &out);
    assert_eq!(fr["treatiesWithoutSteps"], serde_json::json!(["treaties/201"]), "{out}");
}
