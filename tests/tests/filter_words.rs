//! Filters and names read in the words the responses print (issue 16): enum values bare or with their enum's
//! prefix (`status = ACTIVITY_STATUS_COMPLETED`), one `filter: ` prefix in the error message, against the real
//! binary on SQLite and PostgreSQL, with a tonic client and with grpcurl.

use std::process::Command;

use api::{
    activity_service_client::ActivityServiceClient, country_service_client::CountryServiceClient,
    treaty_service_client::TreatyServiceClient,
};
use e2e_tests::{TestServer, api, bad_request, grpcurl};
use storage::testing::PgSchema;
use tonic::{Code, transport::Channel};

/// The names of every activity a filter selects, paging to the end, or the error.
async fn activity_names(channel: &Channel, filter: &str) -> Result<Vec<String>, tonic::Status> {
    let mut client = ActivityServiceClient::new(channel.clone());
    let (mut names, mut token) = (Vec::new(), String::new());
    loop {
        let page = client
            .list_activities(api::ListActivitiesRequest {
                page_size: 1000,
                page_token: token,
                filter: filter.to_owned(),
                order_by: String::new(),
            })
            .await?
            .into_inner();
        names.extend(page.activities.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            return Ok(names);
        }
        token = page.next_page_token;
    }
}

/// The error of a request that must be refused as INVALID_ARGUMENT with one violation of `field`: its message.
fn refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>, field: &str) -> String {
    let err = result.expect_err("a bad request was accepted");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let violations = bad_request(&err);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, field, "{err:?}");
    assert_eq!(err.message(), format!("{}: {}", violations[0].0, violations[0].1), "{err:?}");
    err.message().to_owned()
}

async fn enum_names_and_one_prefix(server: &TestServer) {
    let channel = server.channel().await;
    let completed = activity_names(&channel, r#"status = "COMPLETED""#).await.unwrap();
    assert!(completed.len() > 10, "{completed:?}");
    for form in [
        "status = COMPLETED",
        "status = ACTIVITY_STATUS_COMPLETED",
        r#"status = "ACTIVITY_STATUS_COMPLETED""#,
        "status = completed",
    ] {
        assert_eq!(activity_names(&channel, form).await.unwrap(), completed, "{form}");
    }
    let workshops = activity_names(&channel, r#"kind = "WORKSHOP" AND status != "COMPLETED""#).await.unwrap();
    assert!(!workshops.is_empty());
    assert_eq!(
        activity_names(&channel, "kind = ACTIVITY_KIND_WORKSHOP AND status != ACTIVITY_STATUS_COMPLETED")
            .await
            .unwrap(),
        workshops
    );
    let asia = activity_names(&channel, r#"region = "ASIA_PACIFIC""#).await.unwrap();
    assert_eq!(activity_names(&channel, "region = ASIA_PACIFIC").await.unwrap(), asia);
    assert_eq!(activity_names(&channel, "region = REGION_ASIA_PACIFIC").await.unwrap(), asia);

    // One `filter: ` prefix, from the layer that knows the request's field.
    assert_eq!(
        refused(activity_names(&channel, "status = ACTIVITY_STATUS_DONE").await, "filter"),
        "filter: at position 9, field `status`: unknown status \"ACTIVITY_STATUS_DONE\"; the statuses are \
         PIPELINE, IMPLEMENTATION, COMPLETED, CLOSED, CANCELLED, SUSPENDED"
    );
    assert_eq!(
        refused(activity_names(&channel, "plan = next").await, "filter"),
        "filter: at position 7, field `plan`: expected a plan in double quotes, e.g. \"2007-12..2008-06\", found \
         the bare word `next` (only integers, true, false and the values of status, kind and region go without \
         quotes)"
    );
    let plan = ActivityServiceClient::new(channel.clone())
        .get_activity_plan(api::GetActivityPlanRequest {
            period_start: Some(e2e_tests::date(2007, 1, 1)),
            period_end: Some(e2e_tests::date(2008, 12, 31)),
            filter: "(".to_owned(),
        })
        .await;
    assert_eq!(
        refused(plan, "filter"),
        "filter: at position 1: expected a field, `(`, NOT or `-`, found the end of the filter"
    );

    // A well-formed country that is not in the record: refused, naming the filter and the value.
    for filter in [r#"country = "countries/XX""#, r#"status = COMPLETED AND country:"XX""#] {
        assert_eq!(
            refused(activity_names(&channel, filter).await, "filter"),
            "filter: field `country`: \"countries/XX\" is not a country of the record",
            "{filter}"
        );
    }
    // The bare code stays accepted in filters (released clients send it), and means the name.
    let brazil = activity_names(&channel, r#"country = "countries/BR""#).await.unwrap();
    assert!(!brazil.is_empty());
    assert_eq!(activity_names(&channel, r#"country = "BR""#).await.unwrap(), brazil);

    // A bare code where a resource name is expected: the name to write.
    let mut countries = CountryServiceClient::new(channel.clone());
    let get = countries.get_country(api::GetCountryRequest { name: "PH".into(), as_of: None }).await;
    assert_eq!(refused(get, "name"), "name: `PH` is not a resource name `countries/...`: write \"countries/PH\"");
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let status = treaties
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "185".into(),
            as_of: Some(e2e_tests::date(2007, 11, 30)),
            ..Default::default()
        })
        .await;
    assert_eq!(refused(status, "name"), "name: `185` is not a resource name `treaties/...`: write \"treaties/185\"");
    // ListCountries' filter: the same language (OR, bare enum values) and the same errors.
    let listed = |filter: &str| {
        let mut countries = countries.clone();
        let filter = filter.to_owned();
        async move {
            countries
                .list_countries(api::ListCountriesRequest { filter, page_size: 1000, ..Default::default() })
                .await
                .map(|r| r.into_inner().countries.into_iter().map(|c| c.name).collect::<Vec<_>>())
        }
    };
    let africa = listed(r#"region = "AFRICA""#).await.unwrap();
    let asia = listed("region = ASIA_PACIFIC").await.unwrap();
    assert!(!africa.is_empty() && !asia.is_empty());
    // As responses print Country.region_enum.
    assert_eq!(listed("region = REGION_ASIA_PACIFIC").await.unwrap(), asia);
    assert_eq!(listed(r#"region = "REGION_AFRICA""#).await.unwrap(), africa);
    let mut either = listed("region = AFRICA OR region = ASIA_PACIFIC").await.unwrap();
    let mut expected = [africa.clone(), asia].concat();
    either.sort();
    expected.sort();
    assert_eq!(either, expected);
    assert_eq!(listed(r#"region = "AFRICA" AND coe_member = false"#).await.unwrap(), africa);
    assert_eq!(
        refused(listed("region = AFRICA and coe_member = false").await, "filter"),
        "filter: at position 16: `and` is not a keyword: AND, OR and NOT are uppercase"
    );
    assert_eq!(
        refused(listed("name = x").await, "filter"),
        "filter: at position 0, field `name`: unknown field; fields are region, coe_member"
    );
    // The names themselves are served.
    countries.get_country(api::GetCountryRequest { name: "countries/PH".into(), as_of: None }).await.unwrap();
}

#[tokio::test]
async fn enum_names_as_responses_print_them_sqlite() {
    enum_names_and_one_prefix(&TestServer::start()).await;
}

#[tokio::test]
async fn enum_names_as_responses_print_them_postgres() {
    let Some(schema) = PgSchema::create().await else { return };
    enum_names_and_one_prefix(&TestServer::builder().store(&schema.url).start()).await;
}

/// grpcurl -plaintext -d JSON ADDRESS METHOD: (succeeded, stdout + stderr).
fn grpcurl_call(server: &TestServer, json: &str, method: &str) -> Option<(bool, String)> {
    let bin = grpcurl()?;
    let out = Command::new(bin).args(["-plaintext", "-d", json, &server.addr, method]).output().expect("grpcurl");
    Some((
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    ))
}

#[test]
fn grpcurl_filters_with_a_bare_enum_name() {
    let server = TestServer::start();
    let list = "coe.cybercrime.v1.ActivityService/ListActivities";
    let Some((ok, bare)) =
        grpcurl_call(&server, r#"{"filter": "status = ACTIVITY_STATUS_COMPLETED", "page_size": 1000}"#, list)
    else {
        return;
    };
    assert!(ok, "{bare}");
    let (ok, quoted) =
        grpcurl_call(&server, r#"{"filter": "status = \"COMPLETED\"", "page_size": 1000}"#, list).expect("grpcurl");
    assert!(ok, "{quoted}");
    assert!(bare.contains("\"ACTIVITY_STATUS_COMPLETED\""), "{bare}");
    assert!(!bare.contains("ACTIVITY_STATUS_PIPELINE"), "{bare}");
    assert_eq!(bare, quoted);
    let (ok, err) = grpcurl_call(&server, r#"{"filter": "status = DONE"}"#, list).expect("grpcurl");
    assert!(!ok, "{err}");
    assert!(err.contains("Code: InvalidArgument"), "{err}");
    assert!(err.contains("Message: filter: at position 9, field `status`: unknown status"), "{err}");
    assert!(!err.contains("filter: filter:"), "{err}");
}

/// GetTreatyStatus of ETS 185 on 30 November 2007 in a view.
async fn status_in(channel: &Channel, view: i32) -> Result<api::TreatyStatus, tonic::Status> {
    TreatyServiceClient::new(channel.clone())
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(e2e_tests::date(2007, 11, 30)),
            view,
        })
        .await
        .map(tonic::Response::into_inner)
}

/// A state's line: country, uncertainty, the texts of its three dates.
type Line = (String, bool, Vec<String>);

/// Each group's status, counts and states.
fn table(s: &api::TreatyStatus) -> Vec<(i32, i32, i32, Vec<Line>)> {
    let text = |d: &Option<api::ApproxDate>| d.as_ref().map(|d| d.text.clone()).unwrap_or_default();
    s.groups
        .iter()
        .map(|g| {
            let states = g
                .states
                .iter()
                .map(|e| {
                    (
                        e.country.clone(),
                        e.uncertain,
                        vec![text(&e.signed_range), text(&e.consented_range), text(&e.entry_into_force_range)],
                    )
                })
                .collect();
            (g.status, g.count, g.certain_count, states)
        })
        .collect()
}

#[tokio::test]
async fn the_compact_status_table_is_smaller_and_holds_the_same_states() {
    use prost::Message;
    let server = TestServer::start();
    let channel = server.channel().await;
    let full = status_in(&channel, api::TreatyStatusView::Full as i32).await.unwrap();
    let default = status_in(&channel, api::TreatyStatusView::Unspecified as i32).await.unwrap();
    assert_eq!(default, full);
    let compact = status_in(&channel, api::TreatyStatusView::Compact as i32).await.unwrap();
    assert_eq!(e2e_tests::builders::group_counts(&compact), e2e_tests::builders::ets185_on_2007_11_30());
    assert_eq!(table(&compact), table(&full));
    assert!(table(&full).iter().map(|g| g.3.len()).sum::<usize>() > 30);
    assert!(
        compact.encoded_len() * 5 < full.encoded_len() * 4,
        "compact {} bytes, full {}",
        compact.encoded_len(),
        full.encoded_len()
    );
    let entries = || compact.groups.iter().flat_map(|g| g.states.iter());
    assert!(entries().all(|e| e.signed.is_none() && e.consented.is_none() && e.entry_into_force.is_none()));
    assert!(entries().filter_map(|e| e.signed_range.as_ref()).all(|d| d.earliest.is_none() && d.precision == 0));
    // Asked again (memoized per view), each view gives its own answer.
    assert_eq!(status_in(&channel, api::TreatyStatusView::Full as i32).await.unwrap(), full);
    assert_eq!(status_in(&channel, api::TreatyStatusView::Compact as i32).await.unwrap(), compact);
    assert_eq!(
        refused(status_in(&channel, 7).await, "view"),
        "view: 7 is not a view; the views are TREATY_STATUS_VIEW_FULL (1, the default) and TREATY_STATUS_VIEW_COMPACT (2)"
    );
}

#[test]
fn grpcurl_asks_for_the_compact_view() {
    let server = TestServer::start();
    let method = "coe.cybercrime.v1.TreatyService/GetTreatyStatus";
    let ask = |view: &str| {
        grpcurl_call(
            &server,
            &format!(
                r#"{{"name": "treaties/185", "as_of": {{"year": 2007, "month": 11, "day": 30}}, "view": "{view}"}}"#
            ),
            method,
        )
    };
    let Some((ok, compact)) = ask("TREATY_STATUS_VIEW_COMPACT") else { return };
    assert!(ok, "{compact}");
    let (ok, full) = ask("TREATY_STATUS_VIEW_FULL").expect("grpcurl");
    assert!(ok, "{full}");
    assert!(compact.len() * 5 < full.len() * 4, "compact {} bytes, full {}", compact.len(), full.len());
    assert!(compact.contains("\"countries/DE\"") && full.contains("\"countries/DE\""), "{compact}");
    assert!(full.contains("\"signedRange\"") && full.contains("\"earliest\""), "{full}");
    // The state lines give each date once, as text (the reported figures are kept whole).
    let lines = |out: &str| out.split("\"reportedFigures\"").next().unwrap_or_default().to_owned();
    assert!(lines(&full).contains("\"earliest\""), "{full}");
    assert!(!lines(&compact).contains("\"earliest\"") && lines(&compact).contains("\"text\""), "{compact}");
}
