//! The closed sets once typed only as strings carry an enum beside them (issue 16): `Country.region_enum`,
//! `Place.region_enum`, `Priority.region_enum`, `AssistanceStep.method_enum` and `status_enum`,
//! `ContactPoint.status_enum`, `Partner.role_enum`, `Organisation.kind_enum`, `ReportedFigure.measure_enum` and
//! `qualifier_enum`. Every answer's enum agrees with its string, for every record of the 2007 data, and
//! a write may name a place's region by either form (both must then agree), through the real binary.

use api::{
    activity_service_client::ActivityServiceClient, country_service_client::CountryServiceClient,
    programme_service_client::ProgrammeServiceClient, treaty_service_client::TreatyServiceClient,
};
use e2e_tests::{TestServer, api, bad_request, builders::activity, with_token};
use tonic::{Code, transport::Channel};

/// The enum value name a string of a closed set corresponds to: `"written-analysis"` under `ASSISTANCE_METHOD`
/// is `ASSISTANCE_METHOD_WRITTEN_ANALYSIS`. Empty strings have the `_UNSPECIFIED` value.
fn expected(prefix: &str, text: &str) -> String {
    if text.is_empty() {
        format!("{prefix}_UNSPECIFIED")
    } else {
        format!("{prefix}_{}", text.to_uppercase().replace('-', "_"))
    }
}

fn region(value: i32) -> String {
    api::Region::try_from(value).expect("a Region value").as_str_name().to_owned()
}

async fn countries(channel: &Channel) -> Vec<api::Country> {
    let mut client = CountryServiceClient::new(channel.clone());
    let (mut all, mut token) = (Vec::new(), String::new());
    loop {
        let page = client
            .list_countries(api::ListCountriesRequest { page_size: 1000, page_token: token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.countries);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn every_answer_types_its_closed_sets_as_its_strings_say() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let (mut steps, mut contact_points) = (0, 0);
    let listed = countries(&channel).await;
    assert!(listed.len() >= 85, "{}", listed.len());
    for listed in listed {
        // GetCountry carries the page (assistance, contact point) the list may leave out.
        let country = CountryServiceClient::new(channel.clone())
            .get_country(api::GetCountryRequest { name: listed.name.clone(), ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        assert!(!country.region.is_empty(), "{}", country.name);
        assert_eq!(region(country.region_enum), expected("REGION", &country.region), "{}", country.name);
        assert_eq!(listed.region_enum, country.region_enum, "{}", country.name);
        for step in country.legislative_assistance.iter().flat_map(|a| &a.steps) {
            steps += 1;
            let method = api::AssistanceMethod::try_from(step.method_enum).unwrap().as_str_name();
            assert_eq!(method, expected("ASSISTANCE_METHOD", &step.method), "{}", country.name);
            let status = api::AssistanceStepStatus::try_from(step.status_enum).unwrap().as_str_name();
            assert_eq!(status, expected("ASSISTANCE_STEP_STATUS", &step.status), "{}", country.name);
        }
        if let Some(point) = &country.contact_point {
            contact_points += 1;
            let status = api::ContactPointStatus::try_from(point.status_enum).unwrap().as_str_name();
            assert_eq!(status, expected("CONTACT_POINT_STATUS", &point.status), "{}", country.name);
        }
    }
    // The 2007 data has both (the Philippines' draft law, the points of contact of §3.1).
    assert!(steps > 0 && contact_points > 0, "steps {steps}, contact points {contact_points}");

    let mut activities = ActivityServiceClient::new(channel.clone());
    let page = activities
        .list_activities(api::ListActivitiesRequest { page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let mut regions = 0;
    for a in &page.activities {
        let place = a.place.clone().unwrap_or_default();
        regions += usize::from(!place.region.is_empty());
        assert_eq!(region(place.region_enum), expected("REGION", &place.region), "{}", a.name);
    }
    assert!(regions > 0, "no activity of the data names only a region");
    let partners: Vec<_> = page.activities.iter().flat_map(|a| &a.partners).collect();
    assert!(!partners.is_empty());
    for p in partners {
        let role = api::PartnerRole::try_from(p.role_enum).unwrap().as_str_name();
        assert_eq!(role, expected("PARTNER_ROLE", &p.role), "{}", p.organisation);
    }

    let organisations = ProgrammeServiceClient::new(channel.clone())
        .list_organisations(api::ListOrganisationsRequest { page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .organisations;
    assert!(organisations.len() > 10, "{}", organisations.len());
    for o in organisations {
        let kind = api::OrganisationKind::try_from(o.kind_enum).unwrap().as_str_name();
        assert_eq!(kind, expected("ORGANISATION_KIND", &o.kind), "{}", o.name);
    }

    let mut figures = 0;
    for treaty in ["treaties/185", "treaties/189"] {
        let status = TreatyServiceClient::new(channel.clone())
            .get_treaty_status(api::GetTreatyStatusRequest {
                name: treaty.into(),
                as_of: Some(e2e_tests::date(2007, 11, 30)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for f in status.reported_figures {
            figures += 1;
            let measure = api::ReportedMeasure::try_from(f.measure_enum).unwrap().as_str_name();
            assert_eq!(measure, expected("REPORTED_MEASURE", &f.measure), "{}", f.id);
            let qualifier = api::FigureQualifier::try_from(f.qualifier_enum).unwrap().as_str_name();
            assert_eq!(qualifier, expected("FIGURE_QUALIFIER", &f.qualifier), "{}", f.id);
        }
    }
    assert!(figures > 0, "no reported figure at 2007-11-30");
}

async fn create(
    channel: &Channel,
    name: &str,
    region: &str,
    region_enum: api::Region,
) -> Result<api::Activity, tonic::Status> {
    let mut a = activity(name);
    a.place = Some(api::Place {
        text: "Somewhere in the region".into(),
        region: region.into(),
        region_enum: region_enum as i32,
        ..Default::default()
    });
    ActivityServiceClient::new(channel.clone())
        .create_activity(with_token(
            api::CreateActivityRequest { activity: Some(a), ..Default::default() },
            "editor-token",
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_write_names_a_region_by_either_form_and_both_must_agree() {
    let server = TestServer::start();
    let channel = server.channel().await;

    let typed = create(&channel, "activities/typed-region", "", api::Region::Africa).await.unwrap();
    let place = typed.place.unwrap();
    assert_eq!((place.region.as_str(), place.region_enum), ("AFRICA", api::Region::Africa as i32));

    let both = create(&channel, "activities/both-regions", "AFRICA", api::Region::Africa).await.unwrap();
    assert_eq!(both.place.unwrap().region_enum, api::Region::Africa as i32);

    let err = create(&channel, "activities/regions-disagree", "EUROPE", api::Region::Africa).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let violations = bad_request(&err);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, "activity.place.region_enum", "{err:?}");
    assert!(violations[0].1.contains("EUROPE"), "{err:?}");

    let mut a = activity("activities/no-such-region");
    a.place = Some(api::Place { text: "Nowhere".into(), region_enum: 9, ..Default::default() });
    let err = ActivityServiceClient::new(channel.clone())
        .create_activity(with_token(
            api::CreateActivityRequest { activity: Some(a), ..Default::default() },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(bad_request(&err)[0].0, "activity.place.region_enum", "{err:?}");
    assert!(err.message().contains("9 is not a Region value"), "{err:?}");
}

#[tokio::test]
async fn a_write_names_a_partner_role_by_either_form_and_both_must_agree() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let create = |name: &str, role: &str, role_enum: api::PartnerRole| {
        let mut a = activity(name);
        a.partners = vec![api::Partner {
            organisation: "organisations/itu".into(),
            role: role.into(),
            role_enum: role_enum as i32,
        }];
        let channel = channel.clone();
        async move {
            ActivityServiceClient::new(channel)
                .create_activity(with_token(
                    api::CreateActivityRequest { activity: Some(a), ..Default::default() },
                    "editor-token",
                ))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let typed = create("activities/typed-role", "", api::PartnerRole::CoOrganiser).await.unwrap();
    assert_eq!(typed.partners[0].role, "co-organiser");
    assert_eq!(typed.partners[0].role_enum, api::PartnerRole::CoOrganiser as i32);

    let err = create("activities/roles-disagree", "host", api::PartnerRole::Funder).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let violations = bad_request(&err);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, "activity.partners[0].role_enum", "{err:?}");
    assert!(violations[0].1.contains("host"), "{err:?}");
}
