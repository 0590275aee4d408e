//! ReportService past the record, end to end: a progress report and a country brief dated 2026-12-01, in every
//! format, from the real binary over gRPC and from `cybercrime report`, say that the record of ETS 185 ends at
//! 2007-11-30 and name the states whose status is therefore unknown; at 2007-11-30 the Convention's tables stay
//! those of the report. What must be named is computed from the model, not written here.

use std::process::Command;

use api::report_service_client::ReportServiceClient;
use core_model::{Dataset, TreatyNumber};
use e2e_tests::{TestServer, api, binary, date};

async fn collect(mut stream: tonic::Streaming<api::ReportChunk>) -> String {
    let mut bytes = Vec::new();
    while let Some(c) = stream.message().await.unwrap() {
        bytes.extend(c.data);
    }
    String::from_utf8(bytes).unwrap()
}

/// The names of the states whose status under ETS 185 the model holds uncertain at 2026-12-01.
fn unknown_2026() -> Vec<String> {
    let day = core_model::ApproxDate::day(2026, 12, 1).and_then(|d| d.exact()).unwrap();
    let status = Dataset::bundled().treaty_status(TreatyNumber(185), day).unwrap();
    status.groups.into_iter().flat_map(|g| g.states).filter(|e| e.uncertain).map(|e| e.name).collect()
}

#[tokio::test]
async fn reports_past_the_record_over_grpc_in_every_format() {
    let server = TestServer::start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let unknown = unknown_2026();
    assert!(unknown.iter().any(|n| n == "Poland") && unknown.iter().any(|n| n == "Mexico"), "{unknown:?}");
    for format in [api::ReportFormat::Markdown, api::ReportFormat::Html, api::ReportFormat::Json] {
        let stream = reports
            .generate_progress_report(api::GenerateProgressReportRequest {
                as_of: Some(date(2026, 12, 1)),
                period_start: Some(date(2006, 9, 1)),
                period_end: Some(date(2007, 11, 30)),
                format: format as i32,
            })
            .await
            .unwrap()
            .into_inner();
        let text = collect(stream).await;
        // The report writes days as it writes every date (the JSON's `complete_through` stays a date).
        assert!(text.contains("The record of ETS 185 is complete through 30 Nov 2007"), "{format:?}: {text}");
        if format == api::ReportFormat::Json {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let ets185 = json["past_record"].as_array().unwrap().iter().find(|p| p["treaty"] == "ETS 185").unwrap();
            assert_eq!(ets185["complete_through"], "2007-11-30");
            let listed: Vec<&str> = ets185["unknown"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
            let mut expected: Vec<&str> = unknown.iter().map(String::as_str).collect();
            expected.sort_by_key(|n| n.replace('"', "").to_lowercase());
            assert_eq!(listed, expected);
        } else {
            assert!(text.contains(&format!("The status of these {} states at 1 Dec 2026 is unknown: ", unknown.len())));
            for name in &unknown {
                let shown = if format == api::ReportFormat::Html { name.replace('"', "&quot;") } else { name.clone() };
                assert!(text.contains(&shown), "{format:?} names {name}");
            }
            assert!(text.contains("Uncertain, shown apart"), "{format:?}");
        }
    }

    // A brief of a signatory of 2007, in every format.
    for format in [api::ReportFormat::Markdown, api::ReportFormat::Html, api::ReportFormat::Json] {
        let stream = reports
            .generate_country_brief(api::GenerateCountryBriefRequest {
                country: "countries/PL".into(),
                as_of: Some(date(2026, 12, 1)),
                format: format as i32,
            })
            .await
            .unwrap()
            .into_inner();
        let text = collect(stream).await;
        assert!(text.contains("The record of ETS 185 is complete through 30 Nov 2007"), "{format:?}: {text}");
        if format == api::ReportFormat::Json {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json["past_record"][0]["unknown"], serde_json::json!(["Poland"]));
            assert_eq!(json["treaties"][0]["possibly"], "a party");
        } else {
            assert!(text.contains("The status of Poland at 1 Dec 2026 is unknown."), "{format:?}");
            assert!(text.contains("Uncertain: may be a party — the record of ETS 185 is complete through 30 Nov 2007"));
        }
    }
}

#[tokio::test]
async fn at_the_reports_date_the_convention_is_within_its_record() {
    let server = TestServer::start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let stream = reports
        .generate_progress_report(api::GenerateProgressReportRequest {
            as_of: Some(date(2007, 11, 30)),
            period_start: Some(date(2006, 9, 1)),
            period_end: None,
            format: api::ReportFormat::Markdown as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let md = collect(stream).await;
    assert!(!md.contains("The record of ETS 185 is complete through"), "{md}");
    assert!(md.contains("**Signed (22)**\n\n- Austria\n"), "{md}");
    // 2007 is counted up to 30 November: a consent the record may lack in December is not counted in it.
    let day = core_model::ApproxDate::day(2007, 11, 30).and_then(|d| d.exact()).unwrap();
    let years = Dataset::bundled().consents_per_year_until(TreatyNumber(185), 2002, 2007, day).unwrap();
    // Every consent is placed in its year (the derived bounds), so each year's figure is one number, not a range.
    assert!(years.iter().all(|y| y.added_max == y.added_min), "{years:?}");
    let added: String = years.iter().map(|y| format!(" +{} |", y.added_min)).collect();
    assert!(md.contains(&format!("| Add. ratif. |{added}\n")), "{added}: {md}");
    assert!(years.iter().all(|y| !y.past_record));
    // The Protocol's record is complete for its consents only: that is said too, in the model's words.
    let protocol = Dataset::bundled()
        .treaty_status(TreatyNumber(189), core_model::ApproxDate::day(2007, 11, 30).and_then(|d| d.exact()).unwrap())
        .unwrap();
    assert!(md.contains(&protocol.record_note.unwrap().replace("2007-11-30", "30 Nov 2007")), "{md}");
}

#[test]
fn cybercrime_report_from_the_store_past_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.sqlite").display());
    let out = Command::new(binary())
        .args([
            "report",
            "progress",
            "--create",
            "--store",
            &store,
            "--as-of",
            "2026-12-01",
            "--from",
            "2006-09-01",
            "--to",
            "2007-11-30",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let top = &text[..text.find("## 1 Background").unwrap()];
    assert!(top.contains("The record of ETS 185 is complete through 30 Nov 2007"), "{top}");
    for name in unknown_2026() {
        assert!(top.contains(&name), "{name}");
    }
}
