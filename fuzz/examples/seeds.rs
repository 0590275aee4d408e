//! Writes the seed inputs of the `requests` fuzz target to `fuzz/seeds/requests/`: for every method a few
//! well-formed requests (a selector byte and the encoded message), built from what a store loaded with the
//! bundled dataset answers (real activities, treaty actions, page tokens and etags).
//!
//! Run it by hand when the contract changes (it needs a normal, uninstrumented build of the fuzz crate):
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds
//! ```

use std::path::Path;

use cybercrime_fuzz::{Caller, METHODS, harness, request, selector};
use cybercrime_api::{
    coe::cybercrime::v1::{
        self as pb, activity_service_server::ActivityService, programme_service_server::ProgrammeService,
        treaty_service_server::TreatyService,
    },
    google::r#type::Date,
};
use prost::Message;

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

fn main() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join("requests");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("cannot create the seeds folder");
    let h = harness();
    let s = &h.services;
    let admin = |m| request(m, Caller::Admin);

    let (actions, action_page_token, activity, studies, study_page_token, signature) = h.runtime.block_on(async {
        let actions = TreatyService::list_treaty_actions(
            s,
            admin(pb::ListTreatyActionsRequest { treaty: "treaties/185".into(), page_size: 3, ..Default::default() }),
        )
        .await
        .expect("ListTreatyActions")
        .into_inner();
        let activity = ActivityService::get_activity(
            s,
            request(
                pb::GetActivityRequest { name: "activities/2007-03-19-belgrade-regional-conference".into() },
                Caller::Admin,
            ),
        )
        .await
        .expect("GetActivity")
        .into_inner();
        let studies = ProgrammeService::list_studies(
            s,
            request(pb::ListStudiesRequest { page_size: 2, ..Default::default() }, Caller::Admin),
        )
        .await
        .expect("ListStudies")
        .into_inner();
        // Germany signed ETS 185 in 2001 and had not ratified it by 2007: a ratification it may record.
        let signature = TreatyService::list_treaty_actions(
            s,
            admin(pb::ListTreatyActionsRequest {
                treaty: "treaties/185".into(),
                country: "countries/DE".into(),
                ..Default::default()
            }),
        )
        .await
        .expect("ListTreatyActions")
        .into_inner()
        .treaty_actions
        .remove(0);
        (actions.treaty_actions, actions.next_page_token, activity, studies.studies, studies.next_page_token, signature)
    });

    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut add = |method: &'static str, message: &dyn Fn() -> Vec<u8>| seeds.push((method, message()));

    add("TreatyService/ListTreaties", &|| pb::ListTreatiesRequest::default().encode_to_vec());
    add("TreatyService/ListTreaties", &|| {
        pb::ListTreatiesRequest { page_size: 1, page_token: String::new() }.encode_to_vec()
    });
    add("TreatyService/GetTreaty", &|| pb::GetTreatyRequest { name: "treaties/185".into() }.encode_to_vec());
    add("TreatyService/GetTreaty", &|| pb::GetTreatyRequest { name: "treaties/189".into() }.encode_to_vec());
    add("TreatyService/GetTreatyStatus", &|| {
        pb::GetTreatyStatusRequest { name: "treaties/185".into(), as_of: date(2007, 11, 30), ..Default::default() }
            .encode_to_vec()
    });
    add("TreatyService/GetTreatyStatus", &|| {
        pb::GetTreatyStatusRequest { name: "treaties/189".into(), as_of: None, ..Default::default() }.encode_to_vec()
    });
    add("TreatyService/GetRatificationTimeline", &|| {
        pb::GetRatificationTimelineRequest { name: "treaties/185".into(), from_year: 2001, to_year: 2007 }
            .encode_to_vec()
    });
    add("TreatyService/ListTreatyActions", &|| {
        pb::ListTreatyActionsRequest {
            treaty: "treaties/185".into(),
            page_size: 3,
            page_token: action_page_token.clone(),
            ..Default::default()
        }
        .encode_to_vec()
    });
    add("TreatyService/ListTreatyActions", &|| {
        pb::ListTreatyActionsRequest { country: "countries/AL".into(), ..Default::default() }.encode_to_vec()
    });
    add("TreatyService/ListDeclarations", &|| {
        pb::ListDeclarationsRequest { treaty: "treaties/185".into(), article: "Article 6".into(), ..Default::default() }
            .encode_to_vec()
    });
    add("TreatyService/ListDeclarations", &|| {
        pb::ListDeclarationsRequest {
            country: "countries/LV".into(),
            standing_at: Some(Date { year: 2012, month: 1, day: 1 }),
            page_size: 2,
            ..Default::default()
        }
        .encode_to_vec()
    });
    for a in &actions {
        let a = a.clone();
        add("TreatyService/RecordTreatyAction", &|| {
            pb::RecordTreatyActionRequest { treaty_action: Some(a.clone()), request_id: "seed-1".into() }
                .encode_to_vec()
        });
    }
    add("TreatyService/RecordTreatyAction", &|| {
        let mut a = signature.clone();
        a.kind = pb::ActionKind::Ratification as i32;
        a.date = Some(pb::ApproxDate { text: "2009-03-09".into(), ..Default::default() });
        pb::RecordTreatyActionRequest { treaty_action: Some(a), request_id: String::new() }.encode_to_vec()
    });
    add("TreatyService/GetTreatyAction", &|| {
        pb::GetTreatyActionRequest { name: "treaties/185/actions/AL-ratification".into() }.encode_to_vec()
    });
    add("TreatyService/UpdateTreatyAction", &|| {
        pb::UpdateTreatyActionRequest {
            treaty_action: Some(pb::TreatyAction {
                name: "treaties/185/actions/AL-ratification".into(),
                note: "corrected".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    });
    add("TreatyService/DeleteTreatyAction", &|| {
        pb::DeleteTreatyActionRequest { name: "treaties/185/actions/AL-signature".into(), ..Default::default() }
            .encode_to_vec()
    });
    add("TreatyService/WatchTreatyActions", &|| {
        pb::WatchTreatyActionsRequest { treaty: "treaties/185".into(), ..Default::default() }.encode_to_vec()
    });
    add("ChangeService/WatchChanges", &|| pb::WatchChangesRequest { start_after_sequence: 1 }.encode_to_vec());
    add("ActivityService/ListActivities", &|| {
        pb::ListActivitiesRequest {
            filter: r#"status = "COMPLETED" AND start >= "2007-03-01" AND country = "countries/BR""#.into(),
            page_size: 5,
            ..Default::default()
        }
        .encode_to_vec()
    });
    add("ActivityService/ListActivities", &|| {
        pb::ListActivitiesRequest { filter: "output:2 OR -tentative = true".into(), ..Default::default() }
            .encode_to_vec()
    });
    add("ActivityService/GetActivity", &|| pb::GetActivityRequest { name: activity.name.clone() }.encode_to_vec());
    add("ActivityService/CreateActivity", &|| {
        let mut a = activity.clone();
        a.name = "activities/2008-01-01-fuzz".into();
        a.etag.clear();
        pb::CreateActivityRequest { activity: Some(a), request_id: "seed-2".into(), ..Default::default() }
            .encode_to_vec()
    });
    add("ActivityService/UpdateActivity", &|| {
        let mut a = activity.clone();
        a.title = "Another title".into();
        pb::UpdateActivityRequest {
            activity: Some(a),
            update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
            etag: activity.etag.clone(),
            request_id: String::new(),
        }
        .encode_to_vec()
    });
    add("ActivityService/UpdateActivity", &|| {
        pb::UpdateActivityRequest { activity: Some(activity.clone()), ..Default::default() }.encode_to_vec()
    });
    add("ActivityService/DeleteActivity", &|| {
        pb::DeleteActivityRequest { name: activity.name.clone(), etag: "\"stale\"".into(), request_id: String::new() }
            .encode_to_vec()
    });
    add("ActivityService/DeleteActivity", &|| {
        pb::DeleteActivityRequest { name: "activities/none-such".into(), ..Default::default() }.encode_to_vec()
    });
    add("ActivityService/GetActivityPlan", &|| {
        pb::GetActivityPlanRequest {
            period_start: date(2007, 12, 1),
            period_end: date(2008, 6, 30),
            filter: r#"kind = "WORKSHOP""#.into(),
        }
        .encode_to_vec()
    });
    add("CountryService/ListCountries", &|| {
        pb::ListCountriesRequest {
            filter: r#"region = "EUROPE" AND coe_member = true"#.into(),
            page_size: 4,
            as_of: date(2007, 11, 30),
            ..Default::default()
        }
        .encode_to_vec()
    });
    add("CountryService/GetCountry", &|| {
        pb::GetCountryRequest { name: "countries/AL".into(), as_of: date(2007, 11, 30) }.encode_to_vec()
    });
    add("ProgrammeService/GetProgramme", &|| pb::GetProgrammeRequest { as_of: date(2007, 11, 30) }.encode_to_vec());
    add("ProgrammeService/ListStudies", &|| {
        pb::ListStudiesRequest { page_size: 2, page_token: study_page_token.clone() }.encode_to_vec()
    });
    for study in &studies {
        let name = study.name.clone();
        add("ProgrammeService/GetStudy", &|| pb::GetStudyRequest { name: name.clone() }.encode_to_vec());
    }
    add("ProgrammeService/ListOrganisations", &|| {
        pb::ListOrganisationsRequest { page_size: 3, ..Default::default() }.encode_to_vec()
    });
    add("ProgrammeService/GetOrganisation", &|| {
        pb::GetOrganisationRequest { name: "organisations/itu".into() }.encode_to_vec()
    });
    for format in [pb::ReportFormat::Markdown, pb::ReportFormat::Html, pb::ReportFormat::Json, pb::ReportFormat::Pdf] {
        add("ReportService/GenerateProgressReport", &|| {
            pb::GenerateProgressReportRequest {
                as_of: date(2007, 11, 30),
                period_start: date(2007, 3, 1),
                period_end: date(2007, 11, 30),
                format: format as i32,
            }
            .encode_to_vec()
        });
        add("ReportService/GenerateCountryBrief", &|| {
            pb::GenerateCountryBriefRequest {
                country: "countries/AL".into(),
                as_of: date(2007, 11, 30),
                format: format as i32,
            }
            .encode_to_vec()
        });
    }

    let mut count = 0;
    for (i, (method, bytes)) in seeds.iter().enumerate() {
        let mut input = vec![selector(method)];
        input.extend_from_slice(bytes);
        let name = method.replace('/', "-");
        std::fs::write(out.join(format!("{i:02}-{name}")), &input).expect("cannot write a seed");
        count += 1;
    }
    // The writes again, by a reader and by an anonymous caller.
    for (i, (method, bytes)) in seeds.iter().enumerate() {
        if METHODS.iter().any(|m| m.short_name() == *method && m.writes()) {
            for (who, caller) in [("reader", Caller::Reader), ("anonymous", Caller::Anonymous)] {
                let mut input = vec![selector(method) + caller.selector_offset()];
                input.extend_from_slice(bytes);
                std::fs::write(out.join(format!("{i:02}-{}-{who}", method.replace('/', "-"))), &input)
                    .expect("cannot write a seed");
                count += 1;
            }
        }
    }
    println!("wrote {count} seeds to {}", out.display());
    let _ = std::fs::remove_dir_all(&h.dir);
}
