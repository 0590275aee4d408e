//! The data audit's corrections and the "Priorities in 2008" (§4.1 of the progress report of 30 November 2007)
//! through the API of the real binary: a tonic client and grpcurl. What the answers must hold is the bundled
//! dataset (`core_model::Dataset::bundled`), and a few values copied from the report.

use std::process::Command;

use api::{activity_service_client::ActivityServiceClient, programme_service_client::ProgrammeServiceClient};
use core_model::Dataset;
use e2e_tests::{TestServer, api, date, grpcurl};

const KYIV: &str = "activities/2007-02-06-kyiv-regional-conference";
const BELGRADE: &str = "activities/2007-03-19-belgrade-regional-conference";
const WORKSHOP_24_7: &str = "activities/2008-05-europe-workshop-24-7-contact-points";
const DOMINICAN_REPUBLIC: &str = "activities/2008-03-dominican-republic-legislation-workshop";

#[tokio::test]
async fn the_priorities_in_2008_with_a_tonic_client() {
    let server = TestServer::start();
    let mut programme = ProgrammeServiceClient::new(server.channel().await);
    let p = programme
        .get_programme(api::GetProgrammeRequest { as_of: Some(date(2007, 11, 30)) })
        .await
        .unwrap()
        .into_inner();
    let bundled = Dataset::bundled().priorities;
    let ids: Vec<&str> = p.priorities.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, bundled.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), "every priority, in order");
    assert_eq!(ids.len(), 25);
    let priority = |id: &str| p.priorities.iter().find(|p| p.id == id).unwrap();

    // §4.1.1: "In Europe, activities will focus on promoting ratification of countries that are not yet party
    // (EU member States, Moldova, Montenegro, Russia, Turkey and others)."
    let europe = priority("europe-ratification");
    assert_eq!((europe.year, europe.output, europe.region.as_str()), (2008, 1, "EUROPE"));
    assert!(europe.text.starts_with("In Europe, activities will focus on promoting ratification"));
    assert_eq!(europe.countries, ["countries/MD", "countries/ME", "countries/RU", "countries/TR"]);
    assert_eq!(europe.treaties, ["treaties/185"]);
    assert_eq!(
        europe.sources.iter().map(|c| (c.document.as_str(), c.locator.as_str())).collect::<Vec<_>>(),
        [("report-2007-11", "§4.1.1")]
    );
    // "The project will contribute to the Internet Governance Forum in India in December 2008."
    let igf = priority("igf-india-2008");
    let when = igf.date.as_ref().unwrap();
    assert_eq!((when.text.as_str(), when.precision), ("2008-12", api::DatePrecision::Month as i32));
    assert_eq!((when.earliest, when.latest), (Some(date(2008, 12, 1)), Some(date(2008, 12, 31))));
    assert_eq!(
        (igf.countries.as_slice(), igf.organisations.as_slice()),
        (&["countries/IN".to_owned()][..], &["organisations/igf".to_owned()][..])
    );
    // "By April 2008": a bound with no first day, and the note that says how it was read.
    let study = priority("legislation-study");
    let by = study.date.as_ref().unwrap();
    assert_eq!(
        (by.earliest, by.latest, by.precision),
        (None, Some(date(2008, 4, 30)), api::DatePrecision::Bounded as i32)
    );
    assert!(study.note.contains("on or before 2008-04-30"), "{}", study.note);
    // The general approach serves no one output, and names no region; an undated priority has no date.
    let general = priority("cooperation-with-the-private-sector");
    assert_eq!((general.output, general.region.as_str(), general.date.is_none()), (0, "", true));
    assert_eq!(priority("protocol-implementation").treaties, ["treaties/189"]);

    // The priorities are the programme's, whatever the date indicator values are computed at.
    let today = programme.get_programme(api::GetProgrammeRequest { as_of: None }).await.unwrap().into_inner();
    assert_eq!(today.priorities, p.priorities);
}

async fn names(activities: &mut ActivityServiceClient<tonic::transport::Channel>, filter: &str) -> Vec<String> {
    let page = activities
        .list_activities(api::ListActivitiesRequest { filter: filter.into(), page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(page.next_page_token.is_empty());
    page.activities.into_iter().map(|a| a.name).collect()
}

#[tokio::test]
async fn the_corrected_activities_with_a_tonic_client() {
    let server = TestServer::start();
    let mut activities = ActivityServiceClient::new(server.channel().await);
    // A filter on any participant the report names finds the regional conferences (§2.2.14, §2.2.15).
    for country in ["UA", "EE", "LV", "LT", "RU", "NL", "FR", "IT", "RO"] {
        assert!(
            names(&mut activities, &format!(r#"country = "countries/{country}""#)).await.contains(&KYIV.to_owned()),
            "{country}"
        );
    }
    for country in ["RS", "AL", "BA", "BG", "HR", "FR", "HU", "RO", "SI", "MK", "DE", "IT", "MD", "ME", "TR", "GB"] {
        assert!(
            names(&mut activities, &format!(r#"country:"{country}""#)).await.contains(&BELGRADE.to_owned()),
            "{country}"
        );
    }
    // Serbia's activities of §2.2.12, paid for by PACO Serbia.
    let serbia = names(&mut activities, r#"country = "RS" AND funding = "paco-serbia""#).await;
    assert_eq!(
        serbia,
        [
            BELGRADE,
            "activities/serbia-paco-technical-trainings-cybercrime",
            "activities/serbia-paco-manual-investigation-cybercrime",
            "activities/2007-10-15-switzerland-seminar-financing-of-terrorism",
            "activities/serbia-paco-specialised-training-sessions",
        ]
    );
    // The 24/7 workshop: "May 2008 | Europe (place tbc)": the place is tentative, the date is not.
    let workshop =
        activities.get_activity(api::GetActivityRequest { name: WORKSHOP_24_7.into() }).await.unwrap().into_inner();
    let place = workshop.place.unwrap();
    assert_eq!((place.text.as_str(), place.tentative, workshop.tentative), ("Europe (place tbc)", true, false));
    assert!(!names(&mut activities, "tentative = true").await.contains(&WORKSHOP_24_7.to_owned()));
    // The Dominican Republic workshop: February (§2.3.11) or March 2008 (§4.2), one bound covering both.
    let dr = activities
        .get_activity(api::GetActivityRequest { name: DOMINICAN_REPUBLIC.into() })
        .await
        .unwrap()
        .into_inner();
    let start = dr.start.unwrap();
    assert_eq!(
        (start.text.as_str(), start.earliest, start.latest, start.precision, dr.end),
        (
            "2008-02-01..2008-03-31",
            Some(date(2008, 2, 1)),
            Some(date(2008, 3, 31)),
            api::DatePrecision::Bounded as i32,
            None
        )
    );
    assert!(
        names(&mut activities, r#"start >= "2008-02" AND start <= "2008-03""#)
            .await
            .contains(&DOMINICAN_REPUBLIC.to_owned())
    );
    assert!(!names(&mut activities, r#"start = "2008-03""#).await.contains(&DOMINICAN_REPUBLIC.to_owned()));
}

/// `grpcurl -plaintext -d DATA ADDRESS METHOD`, parsed as JSON.
fn call(server: &TestServer, bin: &std::path::Path, method: &str, data: &str) -> serde_json::Value {
    let out =
        Command::new(bin).args(["-plaintext", "-d", data, server.addr.as_str(), method]).output().expect("grpcurl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn the_priorities_and_the_corrections_with_grpcurl() {
    let Some(bin) = grpcurl() else { return };
    let server = TestServer::start();

    let described = Command::new(&bin)
        .args(["-plaintext", server.addr.as_str(), "describe", "coe.cybercrime.v1.Priority"])
        .output()
        .expect("grpcurl");
    let described = String::from_utf8_lossy(&described.stdout);
    assert!(described.contains("A priority the project sets itself for a year"), "{described}");

    let p = call(
        &server,
        &bin,
        "coe.cybercrime.v1.ProgrammeService/GetProgramme",
        r#"{"as_of": {"year": 2007, "month": 11, "day": 30}}"#,
    );
    let priorities = p["priorities"].as_array().unwrap();
    assert_eq!(priorities.len(), Dataset::bundled().priorities.len());
    let americas = priorities.iter().find(|p| p["id"] == "americas").unwrap();
    assert_eq!(americas["region"], "AMERICAS");
    assert_eq!(americas["output"], 1);
    assert_eq!(
        americas["countries"],
        serde_json::json!([
            "countries/AR",
            "countries/BR",
            "countries/CO",
            "countries/CR",
            "countries/DO",
            "countries/MX"
        ])
    );
    assert_eq!(americas["organisations"], serde_json::json!(["organisations/oas"]));
    let octopus = priorities.iter().find(|p| p["id"] == "octopus-2008-and-t-cy").unwrap();
    assert_eq!(octopus["date"]["text"], "2008-04-01..2008-04-04");
    assert!(octopus["note"].as_str().unwrap().contains("misprint"));

    let kyiv = call(
        &server,
        &bin,
        "coe.cybercrime.v1.ActivityService/ListActivities",
        r#"{"filter": "country = \"countries/UA\" AND status = \"COMPLETED\"", "page_size": 100}"#,
    );
    let found: Vec<&str> = kyiv["activities"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(found.contains(&KYIV), "{found:?}");

    let workshop = call(
        &server,
        &bin,
        "coe.cybercrime.v1.ActivityService/GetActivity",
        &format!(r#"{{"name": "{WORKSHOP_24_7}"}}"#),
    );
    assert_eq!(workshop["place"]["tentative"], true);
    assert_eq!(workshop.get("tentative"), None, "false is not printed: the date is not tentative");
}
