//! The gRPC API end to end: the real binary, a real tonic client.

use std::time::Duration;

use api::{
    activity_service_client::ActivityServiceClient, country_service_client::CountryServiceClient,
    programme_service_client::ProgrammeServiceClient, treaty_service_client::TreatyServiceClient,
};
use e2e_tests::{
    TestServer, api, bad_request,
    builders::{ets185_on_2007_11_30, group_counts},
    date, with_token,
};
use tokio_stream::StreamExt;
use tonic::Code;

fn names(group: &api::StatusGroup) -> Vec<&str> {
    group.states.iter().map(|s| s.display_name.as_str()).collect()
}

async fn status(
    client: &mut TreatyServiceClient<tonic::transport::Channel>,
    name: &str,
    y: i32,
    m: i32,
    d: i32,
) -> api::TreatyStatus {
    client
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: name.into(),
            as_of: Some(date(y, m, d)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn the_status_table_of_30_november_2007() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let s = status(&mut treaties, "treaties/185", 2007, 11, 30).await;
    assert_eq!(group_counts(&s), ets185_on_2007_11_30());
    assert_eq!(names(&s.groups[0])[..3], ["Albania", "Armenia", "Bosnia and Herzegovina"]);
    assert_eq!(names(&s.groups[0]).last(), Some(&"United States of America"));
    assert_eq!(
        names(&s.groups[2]),
        ["Andorra", "Azerbaijan", "Georgia", "Liechtenstein", "Monaco", "Russian Federation", "San Marino", "Turkey"]
    );
    assert_eq!(names(&s.groups[3]), ["Costa Rica", "Mexico"]);
    assert_eq!(names(&s.groups[4]), ["Philippines"]);
    assert!(s.groups.iter().flat_map(|g| &g.states).all(|e| !e.uncertain && e.reason.is_empty()));
    // The record of ETS 185 is complete through the report's date: every count is certain.
    assert_eq!((s.complete_through, s.past_record, s.record_note.as_str()), (Some(date(2007, 11, 30)), false, ""));
    let counts: Vec<(i32, i32)> = s.groups.iter().map(|g| (g.certain_count, g.uncertain_count)).collect();
    assert_eq!(counts, [(21, 0), (22, 0), (8, 0), (2, 0), (1, 0)]);
    // A bounded date is given as a range, never as an invented day: Iceland's deposit, which no source dates, is
    // in January 2007 by its entry into force (2007-05-01) and Article 36(4), a bound derived and said to be.
    let iceland = s.groups[0].states.iter().find(|e| e.country == "countries/IS").unwrap();
    assert_eq!(iceland.consented, Some(date(2007, 1, 0)));
    assert_eq!(iceland.consented_range.as_ref().unwrap().text, "2007-01");
    let derived = iceland.consented_derived.as_ref().unwrap();
    assert_eq!(derived.kind, api::DerivedBoundKind::EntryIntoForce as i32);
    assert!(derived.note.contains("2007-05-01") && derived.note.contains("The day is in no source"), "{derived:?}");
    let albania = &s.groups[0].states[0];
    assert_eq!(albania.consented, Some(date(2002, 6, 20)));
    assert_eq!(albania.entry_into_force, Some(date(2004, 7, 1)));
    // The report's own figures come along.
    let parties = s.reported_figures.iter().find(|f| f.id == "ets185-parties-2007-11-30").unwrap();
    assert_eq!(parties.value, 21);
    assert_eq!(parties.sources[0].document, "report-2007-11");

    // At another date: mid-2004, with the ratifications whose year no source gives uncertain.
    let s = status(&mut treaties, "treaties/185", 2004, 6, 30).await;
    let parties: Vec<(&str, bool)> = s.groups[0].states.iter().map(|e| (e.country.as_str(), e.uncertain)).collect();
    assert_eq!(parties.iter().filter(|p| !p.1).count(), 6);
    let slovenia = s.groups.iter().flat_map(|g| &g.states).find(|e| e.country == "countries/SI").unwrap();
    assert!(slovenia.uncertain);
    assert_eq!(slovenia.possibly, api::StateStatus::Party as i32);
    assert_eq!(
        slovenia.reason,
        "ratified between 2004-05-20 and 2004-12-31 (a bound derived from the consents per year the report \
         states); the day is in no source"
    );
    // Every uncertain state says what it may be and why (Costa Rica and Mexico, invited on a day no source gives).
    for e in s.groups.iter().flat_map(|g| &g.states) {
        assert_eq!(e.uncertain, e.possibly != 0 && !e.reason.is_empty(), "{e:?}");
    }
    let costa_rica = s.groups[3].states.iter().find(|e| e.country == "countries/CR").unwrap();
    assert_eq!(costa_rica.possibly, api::StateStatus::InvitedToAccede as i32);
    let counts: Vec<(i32, i32)> = s.groups.iter().map(|g| (g.certain_count, g.uncertain_count)).collect();
    assert_eq!(
        counts.iter().map(|c| c.0 + c.1).collect::<Vec<_>>(),
        s.groups.iter().map(|g| g.count).collect::<Vec<_>>()
    );
    // Six certain parties; Slovenia counts among the signatories, uncertain (possibly a party).
    assert_eq!(counts[0], (6, 0));
    assert!(s.groups[1].states.iter().any(|e| e.country == "countries/SI" && e.uncertain));
    assert!(counts[1].1 >= 1);

    // The Protocol: the eleven parties the report counts, ten dated by the sources and Slovenia bounded by them;
    // fourteen of the report's 20 signatories (the sources name no others, so a state shown as not signed is
    // uncertain).
    let s = status(&mut treaties, "treaties/189", 2007, 11, 30).await;
    assert_eq!(s.groups[0].count, 11);
    assert_eq!(names(&s.groups[0])[..3], ["Albania", "Armenia", "Bosnia and Herzegovina"]);
    assert!(s.groups[0].states.iter().all(|e| !e.uncertain));
    let slovenia = s.groups[0].states.iter().find(|e| e.country == "countries/SI").unwrap();
    assert_eq!(slovenia.consented, None);
    assert_eq!(slovenia.consented_range.as_ref().unwrap().text, "2004-05-20..2007-11-30");
    assert_eq!(s.groups[1].count, 14);
    assert!(s.reported_figures.iter().any(|f| f.id == "ets189-parties-2007-11-30" && f.value == 11));
    assert!(s.reported_figures.iter().any(|f| f.id == "ets189-signatories-2007-11-30" && f.value == 20));
}

#[tokio::test]
async fn treaties_the_timeline_and_entry_into_force() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let t = treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap().into_inner();
    assert_eq!(t.display_name, "ETS 185");
    assert_eq!(t.entry_into_force, Some(date(2004, 7, 1)));
    assert_eq!(t.computed_entry_into_force.unwrap().latest, Some(date(2004, 7, 1)));
    let all = treaties.list_treaties(api::ListTreatiesRequest::default()).await.unwrap().into_inner();
    let listed: Vec<&str> = all.treaties.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(listed, ["treaties/185", "treaties/189", "treaties/201", "treaties/224", "treaties/18016"]);

    let tl = treaties
        .get_ratification_timeline(api::GetRatificationTimelineRequest {
            name: "treaties/185".into(),
            from_year: 2002,
            to_year: 2007,
        })
        .await
        .unwrap()
        .into_inner();
    let reported: Vec<(i32, Option<i32>, Option<i32>)> =
        tl.years.iter().map(|y| (y.year, y.reported_added, y.reported_total)).collect();
    assert_eq!(
        reported,
        [
            (2002, Some(2), Some(2)),
            (2003, Some(2), Some(4)),
            (2004, Some(4), Some(8)),
            (2005, Some(3), Some(11)),
            (2006, Some(7), Some(18)),
            (2007, Some(3), Some(21))
        ]
    );
    // The data rebuilds the report's series exactly, with the bounds derived from the recorded entries into force
    // and from the series itself; the calendar year 2007 runs past the record (complete through 2007-11-30), so
    // its maxima also count the states that may have consented in December.
    let certain: Vec<(i32, i32)> = tl.years.iter().map(|y| (y.added, y.total)).collect();
    assert_eq!(certain, [(2, 2), (2, 4), (4, 8), (3, 11), (7, 18), (3, 21)]);
    assert!(tl.years[..5].iter().all(|y| y.added_max == y.added && y.total_max == y.total && !y.past_record));
    assert!(tl.years[5].past_record && tl.years[5].total_max > 21);
    assert_eq!(tl.complete_through, Some(date(2007, 11, 30)));
    assert!(tl.consistent_with_reported);
    assert!(tl.undated_consents.is_empty(), "{:?}", tl.undated_consents);
    // The treaty says how far its record is complete, and where that comes from.
    let coverage = t.coverage.unwrap();
    assert_eq!(coverage.complete_through, Some(date(2007, 11, 30)));
    assert_eq!((coverage.sources[0].document.as_str(), coverage.kinds.len()), ("report-2007-11", 0));

    // The derived bounds come with the actions, beside the recorded dates.
    let actions = treaties
        .list_treaty_actions(api::ListTreatyActionsRequest {
            treaty: "treaties/185".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .treaty_actions;
    let mut derived: Vec<(&str, &str, &str, i32)> = actions
        .iter()
        .filter_map(|a| {
            let d = a.derived.as_ref()?;
            Some((a.country.as_str(), a.date.as_ref()?.text.as_str(), d.date.as_ref()?.text.as_str(), d.kind))
        })
        .collect();
    derived.sort();
    let (eif, series) = (api::DerivedBoundKind::EntryIntoForce as i32, api::DerivedBoundKind::ReportedSeries as i32);
    // Every bound the model derives comes with its action; those of the report's years are these four (the
    // deposits after it that the sources leave undated, e.g. Italy's, are derived from their entries into force).
    let model = core_model::Dataset::bundled().derived_bounds(core_model::TreatyNumber(185)).unwrap().len();
    assert_eq!(derived.len(), model);
    assert_eq!(
        derived.iter().filter(|d| d.2 < "2008").map(|d| (d.0, d.2, d.3)).collect::<Vec<_>>(),
        [
            ("countries/IS", "2007-01", eif),
            ("countries/MK", "2004-09", eif),
            ("countries/NO", "2006-06", eif),
            ("countries/SI", "2004-05-20..2004-12-31", series),
        ]
    );
    assert!(derived.iter().all(|d| d.1 != d.2), "the recorded dates stay: {derived:?}");
}

#[tokio::test]
async fn todays_status_says_where_the_record_ends() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    // No as_of: today. The record of ETS 185 ends on 2007-11-30; nothing after it is certain but the parties.
    let s = treaties
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: None,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((s.complete_through, s.past_record), (Some(date(2007, 11, 30)), true));
    assert!(s.record_note.contains("complete through 2007-11-30"), "{}", s.record_note);
    for g in &s.groups {
        for e in &g.states {
            if g.status == api::StateStatus::Party as i32 {
                assert!(!e.uncertain, "{e:?}");
            } else {
                assert!(e.uncertain && e.possibly == api::StateStatus::Party as i32, "{e:?}");
                assert!(e.reason.contains("complete through 2007-11-30"), "{e:?}");
            }
        }
        assert_eq!(
            (g.certain_count + g.uncertain_count, g.uncertain_count == 0),
            (g.count, g.status == api::StateStatus::Party as i32 || g.count == 0)
        );
    }
    // Germany (its deposit is recorded by the tests, not the data), Ireland and Sweden signed; what they did since
    // is in no source here. Turkey had not signed.
    let entry = |code: &str| s.groups.iter().flat_map(|g| &g.states).find(|e| e.country == code).unwrap().clone();
    for code in ["countries/DE", "countries/IE", "countries/SE"] {
        assert_eq!((entry(code).uncertain, entry(code).possibly), (true, api::StateStatus::Party as i32), "{code}");
    }
    assert!(entry("countries/TR").uncertain);
    // The same on the country page and in the timeline.
    let tr = CountryServiceClient::new(server.channel().await)
        .get_country(api::GetCountryRequest { name: "countries/TR".into(), as_of: None })
        .await
        .unwrap()
        .into_inner();
    let ets185 = tr.treaty_statuses.iter().find(|t| t.treaty == "treaties/185").unwrap();
    assert_eq!((ets185.complete_through, ets185.past_record), (Some(date(2007, 11, 30)), true));
    let e = ets185.entry.as_ref().unwrap();
    assert_eq!((e.uncertain, e.possibly), (true, api::StateStatus::Party as i32));
    let tl = treaties
        .get_ratification_timeline(api::GetRatificationTimelineRequest {
            name: "treaties/185".into(),
            from_year: 2008,
            to_year: 2008,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(tl.years[0].past_record && tl.years[0].added_max > tl.years[0].added, "{:?}", tl.years[0]);

    // The 2007 table is unchanged.
    let s = status(&mut treaties, "treaties/185", 2007, 11, 30).await;
    let groups: Vec<(i32, i32, i32)> = s.groups.iter().map(|g| (g.count, g.certain_count, g.uncertain_count)).collect();
    assert_eq!(groups, [(21, 21, 0), (22, 22, 0), (8, 8, 0), (2, 2, 0), (1, 1, 0)]);
    // ETS 189's record is complete for its consents only: its not-signed states are uncertain even then.
    let s = status(&mut treaties, "treaties/189", 2007, 11, 30).await;
    assert!(s.past_record);
    assert_eq!((s.groups[0].certain_count, s.groups[0].uncertain_count), (11, 0));
    assert!(
        s.groups[2].uncertain_count > 0
            && s.groups[2].states.iter().all(|e| e.uncertain || !e.reason.is_empty() || e.possibly == 0)
    );
}

#[tokio::test]
async fn lists_page_to_their_end() {
    let server = TestServer::start();
    let mut activities = ActivityServiceClient::new(server.channel().await);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = activities
            .list_activities(api::ListActivitiesRequest {
                page_size: 10,
                page_token: token.clone(),
                filter: "status = \"COMPLETED\"".into(),
                order_by: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.activities.len() <= 10);
        seen.extend(page.activities.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    // The 46 of §2.1 and the 4 the report tells only in its narrative (§2.2.11, §2.2.12).
    assert_eq!(seen.len(), 50);
    assert_eq!(seen[0], "activities/2006-08-31-geneva-itu-meeting-cybersecurity-spam");

    let brazil = activities
        .list_activities(api::ListActivitiesRequest {
            filter: "status = \"COMPLETED\" AND start >= \"2007-03-01\" AND country = \"countries/BR\"".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Three in São Paulo, the IGF in Rio, and the Octopus conference Brazil took part in (§2.2.3).
    assert_eq!(brazil.activities.len(), 5);

    let mut countries = CountryServiceClient::new(server.channel().await);
    let mut n = 0;
    let mut token = String::new();
    loop {
        let page = countries
            .list_countries(api::ListCountriesRequest {
                page_size: 20,
                page_token: token,
                filter: String::new(),
                as_of: Some(date(2007, 11, 30)),
            })
            .await
            .unwrap()
            .into_inner();
        n += page.countries.len();
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(n, core_model::Dataset::bundled().states.len());
    let members = countries
        .list_countries(api::ListCountriesRequest {
            page_size: 100,
            filter: "coe_member = true".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(members.countries.len(), 47);

    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let de = treaties
        .list_treaty_actions(api::ListTreatyActionsRequest { country: "countries/AL".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(de.treaty_actions.len(), 5, "Albania signed and ratified ETS 185 and ETS 189, and signed CETS 224");
}

#[tokio::test]
async fn a_recorded_action_reaches_a_watcher() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let mut stream = treaties
        .watch_treaty_actions(api::WatchTreatyActionsRequest { treaty: "treaties/185".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let action = api::TreatyAction {
        country: "countries/DE".into(),
        treaty: "treaties/185".into(),
        kind: api::ActionKind::Ratification as i32,
        date: Some(api::ApproxDate { text: "2009-03-09".into(), ..Default::default() }),
        sources: vec![api::Citation { document: "CoE-2015".into(), locator: String::new() }],
        ..Default::default()
    };
    let recorded = treaties
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest { treaty_action: Some(action.clone()), request_id: "e2e-1".into() },
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recorded.date.as_ref().unwrap().latest, Some(date(2009, 3, 9)));
    let event = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(event.treaty_action.unwrap().country, "countries/DE");
    // The status reflects it at once.
    let s = status(&mut treaties, "treaties/185", 2009, 12, 31).await;
    assert!(s.groups[0].states.iter().any(|e| e.country == "countries/DE"));
    // The same request id again: applied once, answered the same.
    let again = treaties
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest { treaty_action: Some(action), request_id: "e2e-1".into() },
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, recorded);
    assert!(server.log().contains("RecordTreatyAction"), "one log line per request");
    assert!(server.log().contains("editor@test"));
    assert!(!server.log().contains("editor-token"), "no secret in the log");
}

#[tokio::test]
async fn activities_are_created_updated_and_deleted_with_etags() {
    let server = TestServer::start();
    let mut activities = ActivityServiceClient::new(server.channel().await);
    let new = api::Activity {
        name: "activities/2008-03-tirana-workshop".into(),
        title: "Workshop on cybercrime legislation".into(),
        start: Some(api::ApproxDate { text: "2008-03".into(), ..Default::default() }),
        place: Some(api::Place {
            text: "Tirana, Albania".into(),
            city: "Tirana".into(),
            country: "countries/AL".into(),
            region: String::new(),
            tentative: true,
            ..Default::default()
        }),
        countries: vec!["countries/AL".into()],
        kind: api::ActivityKind::Workshop as i32,
        status: api::ActivityStatus::Pipeline as i32,
        outputs: vec![1],
        partners: vec![api::Partner {
            organisation: "organisations/microsoft".into(),
            role: "supporter".into(),
            ..Default::default()
        }],
        funding: vec!["project-budget".into()],
        plan: "2007-12..2008-06".into(),
        sources: vec![api::Citation { document: "report-2007-11".into(), locator: "§4.2".into() }],
        ..Default::default()
    };
    let created = activities
        .create_activity(with_token(
            api::CreateActivityRequest { activity: Some(new.clone()), request_id: String::new(), ..Default::default() },
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    // The etag is quoted (RFC 7232) and opaque.
    assert!(created.etag.starts_with('"') && created.etag.ends_with('"'), "{}", created.etag);
    let dup = activities
        .create_activity(with_token(
            api::CreateActivityRequest { activity: Some(new.clone()), request_id: String::new(), ..Default::default() },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Code::AlreadyExists);

    // Update one field through the mask.
    let change =
        api::Activity { name: new.name.clone(), status: api::ActivityStatus::Completed as i32, ..Default::default() };
    let updated = activities
        .update_activity(with_token(
            api::UpdateActivityRequest {
                activity: Some(change.clone()),
                update_mask: Some(prost_types::FieldMask { paths: vec!["status".into()] }),
                etag: created.etag.clone(),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (updated.status, updated.title.as_str()),
        (api::ActivityStatus::Completed as i32, "Workshop on cybercrime legislation")
    );
    assert_ne!(updated.etag, created.etag);
    // A stale etag: ABORTED, nothing written.
    let stale = activities
        .update_activity(with_token(
            api::UpdateActivityRequest {
                activity: Some(api::Activity { name: new.name.clone(), title: "stale".into(), ..Default::default() }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
                etag: created.etag.clone(),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let got = activities.get_activity(api::GetActivityRequest { name: new.name.clone() }).await.unwrap().into_inner();
    assert_eq!(got.title, "Workshop on cybercrime legislation");
    // The place still to be confirmed is kept apart from the date, which is not tentative.
    assert_eq!((got.place.as_ref().map(|p| p.tentative), got.tentative), (Some(true), false));
    // An unknown mask path.
    let err = activities
        .update_activity(with_token(
            api::UpdateActivityRequest {
                activity: Some(change),
                update_mask: Some(prost_types::FieldMask { paths: vec!["colour".into()] }),
                etag: String::new(),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        bad_request(&err),
        [("update_mask.paths[0]".to_owned(), "`colour` is not an updatable field of Activity".to_owned())]
    );
    // Delete with the current etag.
    activities
        .delete_activity(with_token(
            api::DeleteActivityRequest {
                name: new.name.clone(),
                etag: updated.etag.clone(),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .unwrap();
    let gone = activities.get_activity(api::GetActivityRequest { name: new.name }).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn each_bad_request_gets_its_code_and_field() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let mut activities = ActivityServiceClient::new(server.channel().await);
    let mut countries = CountryServiceClient::new(server.channel().await);

    let err = treaties.get_treaty(api::GetTreatyRequest { name: "treaties/999".into() }).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, "treaties/999 not found"));
    let err =
        countries.get_country(api::GetCountryRequest { name: "countries/QQ".into(), as_of: None }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = treaties.get_treaty(api::GetTreatyRequest { name: "treaty/185".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        bad_request(&err),
        [("name".to_owned(), "`treaty/185` is not a resource name `treaties/...`".to_owned())]
    );

    for (d, description) in [
        (date(2007, 13, 1), "month 13 is out of range 1-12"),
        (date(2007, 2, 0), "day 0 is out of range: a full date is needed"),
        (date(2007, 2, 30), "day 30 does not exist in 2007-02"),
    ] {
        let err = treaties
            .get_treaty_status(api::GetTreatyStatusRequest {
                name: "treaties/185".into(),
                as_of: Some(d),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(bad_request(&err), [("as_of".to_owned(), description.to_owned())]);
    }
    let err = activities
        .list_activities(api::ListActivitiesRequest { filter: "stat = \"COMPLETED\"".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_request(&err)[0].0, "filter");
    assert!(bad_request(&err)[0].1.contains("field `stat`: unknown field"), "{err:?}");
    let err = activities
        .list_activities(api::ListActivitiesRequest { page_size: -1, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(bad_request(&err), [("page_size".to_owned(), "-1 is negative".to_owned())]);
    let first = activities
        .list_activities(api::ListActivitiesRequest { page_size: 2, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let err = activities
        .list_activities(api::ListActivitiesRequest {
            page_size: 2,
            page_token: first.next_page_token,
            filter: "output = 1".into(),
            order_by: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_request(&err)[0].0, "page_token");

    // A domain rule: the Protocol's consent before the Convention's (Bulgaria ratified ETS 185 on 2005-04-07).
    let record = |country: &str, treaty: &str, kind: api::ActionKind, text: &str| api::RecordTreatyActionRequest {
        treaty_action: Some(api::TreatyAction {
            country: country.into(),
            treaty: treaty.into(),
            kind: kind as i32,
            date: Some(api::ApproxDate { text: text.into(), ..Default::default() }),
            sources: vec![api::Citation { document: "CoE-2015".into(), locator: String::new() }],
            ..Default::default()
        }),
        request_id: String::new(),
    };
    treaties
        .record_treaty_action(with_token(
            record("countries/BG", "treaties/189", api::ActionKind::Signature, "2003-02-01"),
            "editor-token",
        ))
        .await
        .unwrap();
    let err = treaties
        .record_treaty_action(with_token(
            record("countries/BG", "treaties/189", api::ActionKind::Ratification, "2005-01-01"),
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(
        err.message(),
        "BG: consent to ETS 189 (2005-01-01) is before consent to ETS 185 (2005-04-07); it must come first or at the same time"
    );
    // A second ratification.
    let err = treaties
        .record_treaty_action(with_token(
            record("countries/AL", "treaties/185", api::ActionKind::Ratification, "2003-01-01"),
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    // A bad date in a write names the field.
    let err = treaties
        .record_treaty_action(with_token(
            record("countries/DE", "treaties/185", api::ActionKind::Ratification, "2009-13"),
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_request(&err), [("treaty_action.date.text".to_owned(), "month 13 is out of range 1-12".to_owned())]);

    // Auth: no token, a bad token, a reader's token on a write (PERMISSION_DENIED before NOT_FOUND).
    let err = treaties
        .record_treaty_action(record("countries/DE", "treaties/185", api::ActionKind::Ratification, "2009-03-09"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = treaties
        .record_treaty_action(with_token(
            record("countries/DE", "treaties/185", api::ActionKind::Ratification, "2009-03-09"),
            "wrong",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = activities
        .delete_activity(with_token(
            api::DeleteActivityRequest { name: "activities/no-such".into(), ..Default::default() },
            "reader-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // Nothing was written by the failed requests: Germany is still a signatory.
    let s = status(&mut treaties, "treaties/185", 2030, 1, 1).await;
    assert!(s.groups[1].states.iter().any(|e| e.country == "countries/DE"));
}

#[tokio::test]
async fn reads_can_require_a_token() {
    let server = TestServer::builder().require_token_for_reads().start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let err = treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    treaties
        .get_treaty(with_token(api::GetTreatyRequest { name: "treaties/185".into() }, "reader-token"))
        .await
        .unwrap();
}

#[tokio::test]
async fn countries_the_plan_and_the_programme() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let ph = CountryServiceClient::new(channel.clone())
        .get_country(api::GetCountryRequest { name: "countries/PH".into(), as_of: Some(date(2007, 11, 30)) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ph.treaty_statuses[0].status, api::StateStatus::AccessionRequested as i32);
    assert_eq!(ph.legislative_assistance[0].id, "ph-draft-law");
    let rs = CountryServiceClient::new(channel.clone())
        .get_country(api::GetCountryRequest { name: "countries/RS".into(), as_of: Some(date(2007, 11, 30)) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rs.contact_point.unwrap().status, "temporary");

    let plan = ActivityServiceClient::new(channel.clone())
        .get_activity_plan(api::GetActivityPlanRequest {
            period_start: Some(date(2007, 12, 1)),
            period_end: Some(date(2008, 6, 30)),
            filter: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let planned = plan.activities.iter().filter(|a| a.plan == "2007-12..2008-06").count();
    assert_eq!(planned, 24, "every activity of section 4.2");
    assert_eq!(plan.activities.last().unwrap().place.as_ref().unwrap().country, "countries/AL", "the undated one last");
    let err = ActivityServiceClient::new(channel.clone())
        .get_activity_plan(api::GetActivityPlanRequest {
            period_start: Some(date(2008, 6, 30)),
            period_end: Some(date(2007, 12, 1)),
            filter: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request(&err)[0].0, "period_end");

    let mut programme = ProgrammeServiceClient::new(channel.clone());
    let p = programme
        .get_programme(api::GetProgrammeRequest { as_of: Some(date(2007, 11, 30)) })
        .await
        .unwrap()
        .into_inner();
    let targets: Vec<(i32, i32)> = p.outputs[0].indicators[0].targets.iter().map(|t| (t.target, t.value)).collect();
    assert_eq!(targets, [(10, 1), (5, 8)]);
    assert_eq!(programme.list_studies(api::ListStudiesRequest::default()).await.unwrap().into_inner().studies.len(), 5);
    let itu = programme
        .get_organisation(api::GetOrganisationRequest { name: "organisations/itu".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(itu.kind, "intergovernmental");
}

#[tokio::test]
async fn health_and_graceful_shutdown() {
    let mut server = TestServer::start();
    let channel = server.channel().await;
    let mut health = tonic_health_client(channel.clone());
    let serving = health
        .check(grpc_server::pb_health::HealthCheckRequest { service: "coe.cybercrime.v1.TreatyService".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(serving.status, grpc_server::pb_health::health_check_response::ServingStatus::Serving as i32);
    // A watcher connected: shutdown still completes within its bound.
    let mut treaties = TreatyServiceClient::new(channel);
    let _stream = treaties.watch_treaty_actions(api::WatchTreatyActionsRequest::default()).await.unwrap().into_inner();
    let (took, ok) = server.terminate();
    assert!(ok, "exit status");
    // The bound: the grace period (5 s by default), then the store's close, which waits up to 3 s for SQLite to
    // remove its write-ahead log once checkpointed, and a margin for a loaded machine.
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
}

fn tonic_health_client(
    channel: tonic::transport::Channel,
) -> grpc_server::pb_health::health_client::HealthClient<tonic::transport::Channel> {
    grpc_server::pb_health::health_client::HealthClient::new(channel)
}
