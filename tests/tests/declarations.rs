//! Reservations, declarations and designated authorities end to end (issue 18): the real binary and a real tonic
//! client ask "which Parties reserved Article X" and "who is a state's central authority (Article 27(2)) on a
//! date"; a withdrawal ends a reservation from its date; a country's page carries its statements; bad requests get
//! the right code, reason and field; every answer says the record is not complete. The same question through
//! grpcurl; an export made before `declarations.toml` existed imports through the binary; and a denunciation
//! recorded through the API ends a party's status when it takes effect (ETS 185 Article 47), not on its notification.

use std::process::Command;

use api::{country_service_client::CountryServiceClient, treaty_service_client::TreatyServiceClient};
use e2e_tests::{TestServer, api, bad_request, binary, builders::ratification, date, grpcurl, with_token};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

type Treaties = TreatyServiceClient<Channel>;

async fn list(client: &mut Treaties, r: api::ListDeclarationsRequest) -> api::ListDeclarationsResponse {
    client.list_declarations(r).await.unwrap_or_else(|e| panic!("{e:?}")).into_inner()
}

fn countries(r: &api::ListDeclarationsResponse) -> Vec<&str> {
    let mut c: Vec<&str> = r.declarations.iter().map(|d| d.country.as_str()).collect();
    c.dedup();
    c
}

fn reservations_of(article: &str, at: Option<(i32, i32, i32)>) -> api::ListDeclarationsRequest {
    api::ListDeclarationsRequest {
        treaty: "treaties/185".into(),
        article: article.into(),
        kinds: vec![api::DeclarationKind::Reservation as i32],
        standing_at: at.map(|(y, m, d)| date(y, m, d)),
        ..Default::default()
    }
}

fn reason(status: &tonic::Status) -> String {
    status.get_error_details().error_info().map(|i| i.reason.clone()).unwrap_or_default()
}

#[tokio::test]
async fn which_parties_reserved_an_article_and_who_is_a_central_authority() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);

    // Which Parties reserved Article 6? Andorra (Article 6(3), 2016, the Dutch treaty database) and Norway (its
    // Octopus page; dated between its signature and its deposit in 2006). On 2007-11-30, Norway alone.
    let six = list(&mut treaties, reservations_of("Article 6", None)).await;
    assert_eq!(countries(&six), ["countries/AD", "countries/NO"]);
    let in_2007 = list(&mut treaties, reservations_of("Article 6", Some((2007, 11, 30)))).await;
    assert_eq!(countries(&in_2007), ["countries/NO"]);
    let in_2005 = list(&mut treaties, reservations_of("Article 6", Some((2005, 1, 1)))).await;
    assert_eq!(in_2005.declarations[0].standing, api::DeclarationStanding::Uncertain as i32);
    let ad = &six.declarations[0];
    assert_eq!(ad.name, "treaties/185/declarations/AD-185-reservation-6");
    assert_eq!(ad.kind, api::DeclarationKind::Reservation as i32);
    assert_eq!(ad.articles[0].display_name, "Article 6(3)");
    assert_eq!((ad.articles[0].article, ad.articles[0].paragraph), (6, 3));
    assert!(ad.sources.iter().any(|s| s.document == "NL-decl-185"), "{:?}", ad.sources);
    assert!(six.coverage_notes[0].contains("not complete"), "{:?}", six.coverage_notes);

    // Article 22: Latvia's reservation stood from its deposit (2007-02-14) to its withdrawal (2011-12-02, S14).
    let at = |y, m, d| reservations_of("22", Some((y, m, d)));
    assert_eq!(countries(&list(&mut treaties, at(2010, 1, 1)).await), ["countries/LV"]);
    let before = list(&mut treaties, at(2011, 12, 1)).await;
    assert_eq!(before.declarations[0].standing, api::DeclarationStanding::Stands as i32);
    assert!(list(&mut treaties, at(2011, 12, 2)).await.declarations.is_empty());
    assert!(list(&mut treaties, at(2007, 2, 13)).await.declarations.is_empty());
    // Without a date, the reservation and its withdrawal, each with its standing today.
    let all = list(
        &mut treaties,
        api::ListDeclarationsRequest {
            treaty: "treaties/185".into(),
            article: "Article 22".into(),
            ..Default::default()
        },
    )
    .await;
    let shown: Vec<(&str, i32, &str)> =
        all.declarations.iter().map(|d| (d.name.as_str(), d.standing, d.withdraws.as_str())).collect();
    assert_eq!(
        shown,
        [
            ("treaties/185/declarations/LV-185-reservation-22", api::DeclarationStanding::Withdrawn as i32, ""),
            (
                "treaties/185/declarations/LV-185-withdrawal-22",
                api::DeclarationStanding::NotAStatement as i32,
                "treaties/185/declarations/LV-185-reservation-22"
            ),
        ]
    );

    // Who is Albania's central authority (Article 27(2)) on 2007-11-30? And before it designated one?
    let central = |country: &str, (y, m, d)| api::ListDeclarationsRequest {
        treaty: "treaties/185".into(),
        article: "Article 27(2)".into(),
        country: format!("countries/{country}"),
        kinds: vec![api::DeclarationKind::AuthorityDesignation as i32],
        standing_at: Some(date(y, m, d)),
        ..Default::default()
    };
    let al = list(&mut treaties, central("AL", (2007, 11, 30))).await;
    let authorities: Vec<&str> = al.declarations.iter().map(|d| d.authority.as_str()).collect();
    assert_eq!(authorities, ["Ministry of Justice, Tirana"]);
    assert_eq!(al.declarations[0].standing_at, Some(date(2007, 11, 30)));
    assert_eq!(al.declarations[0].date.as_ref().unwrap().latest, Some(date(2006, 6, 19)));
    assert!(list(&mut treaties, central("AL", (2006, 6, 18))).await.declarations.is_empty());
    let fi = list(&mut treaties, central("FI", (2007, 6, 30))).await;
    assert_eq!(fi.declarations[0].authority, "Ministry of Justice, Eteläesplanadi 10, FIN-00130 Helsinki");
    let fi_early = list(&mut treaties, central("FI", (2007, 6, 15))).await;
    assert_eq!(fi_early.declarations[0].standing, api::DeclarationStanding::Uncertain as i32);
    let at = list(&mut treaties, central("AT", (2026, 3, 1))).await;
    assert!(at.declarations[0].authority.contains("Federal Ministry of Justice"), "{at:?}");
    // Norway's central authority since 2026: none recorded (only its reservations are), and the answer says that
    // does not mean it designated none. A state with no statement at all recorded is named as such.
    let no = list(&mut treaties, central("NO", (2026, 3, 1))).await;
    assert!(no.declarations.is_empty());
    assert!(no.coverage_notes.iter().any(|n| n.contains("No recorded statement matches")), "{:?}", no.coverage_notes);
    let fr = list(&mut treaties, central("FR", (2026, 3, 1))).await;
    assert!(
        fr.coverage_notes.iter().any(|n| n.contains("No statement of countries/FR is recorded")),
        "{:?}",
        fr.coverage_notes
    );

    // Pages: one at a time, in the record's order, the token carrying the filter.
    let mut first = reservations_of("", None);
    first.page_size = 1;
    let p1 = list(&mut treaties, first.clone()).await;
    assert_eq!(p1.declarations.len(), 1);
    assert!(!p1.next_page_token.is_empty());
    let p2 =
        list(&mut treaties, api::ListDeclarationsRequest { page_token: p1.next_page_token.clone(), ..first }).await;
    assert_ne!(p1.declarations[0].name, p2.declarations[0].name);
}

#[tokio::test]
async fn bad_requests_name_the_field_and_the_reason() {
    let server = TestServer::start();
    let treaties = TreatyServiceClient::new(server.channel().await);
    let call = |r: api::ListDeclarationsRequest| {
        let mut c = treaties.clone();
        async move { c.list_declarations(r).await.unwrap_err() }
    };

    let err = call(reservations_of("Article 49", None)).await;
    assert_eq!((err.code(), reason(&err).as_str()), (Code::InvalidArgument, "ARTICLE_NOT_IN_TREATY"), "{err:?}");
    assert!(err.message().contains("ETS 185 has no Article 49: its articles are numbered 1 to 48"), "{err:?}");
    assert_eq!(bad_request(&err)[0].0, "article");
    let info = err.get_error_details().error_info().cloned().unwrap();
    assert_eq!(info.metadata.get("articles").map(String::as_str), Some("48"));

    let protocol = api::ListDeclarationsRequest {
        treaty: "treaties/189".into(),
        article: "Article 17".into(),
        ..Default::default()
    };
    let err = call(protocol).await;
    assert_eq!(reason(&err), "ARTICLE_NOT_IN_TREATY", "{err:?}");
    assert!(err.message().contains("1 to 16"), "{err:?}");

    let err = call(reservations_of("Article six", None)).await;
    assert_eq!((err.code(), bad_request(&err)[0].0.as_str()), (Code::InvalidArgument, "article"), "{err:?}");
    assert!(err.message().contains("`Article six` is not an article"), "{err:?}");

    let no_treaty = api::ListDeclarationsRequest { article: "Article 6".into(), ..Default::default() };
    let err = call(no_treaty).await;
    assert_eq!((err.code(), bad_request(&err)[0].0.as_str()), (Code::InvalidArgument, "article"), "{err:?}");

    let unknown = api::ListDeclarationsRequest { country: "countries/ZZ".into(), ..Default::default() };
    let err = call(unknown).await;
    assert_eq!((err.code(), reason(&err).as_str()), (Code::NotFound, "UNKNOWN_STATE"), "{err:?}");

    let unspecified = api::ListDeclarationsRequest { kinds: vec![0], ..Default::default() };
    let err = call(unspecified).await;
    assert_eq!((err.code(), bad_request(&err)[0].0.as_str()), (Code::InvalidArgument, "kinds[0]"), "{err:?}");

    let treaty = api::ListDeclarationsRequest { treaty: "treaties/999".into(), ..Default::default() };
    assert_eq!(call(treaty).await.code(), Code::NotFound);
}

#[tokio::test]
async fn a_country_page_carries_its_statements_with_their_standing() {
    let server = TestServer::start();
    let mut countries = CountryServiceClient::new(server.channel().await);
    let page = |(y, m, d)| api::GetCountryRequest { name: "countries/LV".into(), as_of: Some(date(y, m, d)) };
    let lv = countries.get_country(page((2010, 1, 1))).await.unwrap().into_inner();
    let standing: Vec<(&str, i32)> = lv.declarations.iter().map(|d| (d.name.as_str(), d.standing)).collect();
    assert_eq!(
        standing,
        [
            ("treaties/185/declarations/LV-185-reservation-22", api::DeclarationStanding::Stands as i32),
            ("treaties/185/declarations/LV-185-withdrawal-22", api::DeclarationStanding::NotAStatement as i32),
        ]
    );
    let later = countries.get_country(page((2012, 1, 1))).await.unwrap().into_inner();
    assert_eq!(later.declarations[0].standing, api::DeclarationStanding::Withdrawn as i32);
    // A state with none recorded has none on its page.
    let fr = api::GetCountryRequest { name: "countries/FR".into(), as_of: Some(date(2012, 1, 1)) };
    assert!(countries.get_country(fr).await.unwrap().into_inner().declarations.is_empty());
}

#[test]
fn grpcurl_asks_which_parties_reserved_article_29() {
    let Some(bin) = grpcurl() else { return };
    let server = TestServer::start();
    let out = Command::new(bin)
        .arg("-plaintext")
        .args([
            "-d",
            r#"{"treaty": "treaties/185", "article": "Article 29", "kinds": ["DECLARATION_KIND_RESERVATION"]}"#,
        ])
        .arg(&server.addr)
        .arg("coe.cybercrime.v1.TreatyService/ListDeclarations")
        .output()
        .expect("grpcurl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(r#""country": "countries/AT""#), "{text}");
    assert!(text.contains(r#""displayName": "Article 29(4)""#), "{text}");
    assert!(text.contains("not complete"), "{text}");
}

#[tokio::test]
async fn an_export_without_the_declarations_file_imports_and_serves_none() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let cli = |args: &[&str]| {
        let out = Command::new(binary()).args(args).output().expect("cybercrime runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let source = format!("sqlite://{}", dir.path().join("source.sqlite").display());
    cli(&["import", "--store", &source, "../data"]);
    let export = dir.path().join("export");
    cli(&["export", "--store", &source, export.to_str().expect("path")]);
    assert!(std::fs::read_to_string(export.join("declarations.toml")).unwrap().contains("LV-185-withdrawal-22"));
    // As an export written before the file existed: no file, and no etag of a declaration beside the others.
    std::fs::remove_file(export.join("declarations.toml")).unwrap();
    let versions = std::fs::read_to_string(export.join("versions.toml")).unwrap();
    assert!(versions.contains("\"declaration/LV-185-reservation-22\" = "), "{versions}");
    let older: Vec<&str> = versions.lines().filter(|l| !l.starts_with("\"declaration/")).collect();
    std::fs::write(export.join("versions.toml"), older.join("\n") + "\n").unwrap();
    let store = format!("sqlite://{}", dir.path().join("old.sqlite").display());
    cli(&["import", "--store", &store, export.to_str().expect("path")]);

    let server = TestServer::builder().store(&store).start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let none = list(&mut treaties, api::ListDeclarationsRequest::default()).await;
    assert!(none.declarations.is_empty());
    assert!(none.coverage_notes[0].contains("not complete"));
    // The rest of the record is there.
    let al = treaties
        .get_treaty_action(api::GetTreatyActionRequest { name: "treaties/185/actions/AL-ratification".into() })
        .await;
    assert!(al.is_ok(), "{al:?}");
}

#[tokio::test]
async fn a_recorded_denunciation_ends_the_party_when_it_takes_effect() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let countries = CountryServiceClient::new(channel);
    // A synthetic denunciation by Albania, notified on 2026-01-15: under Article 47(2) it takes effect on the first
    // day of the month following three months after, 2026-05-01.
    let denunciation = api::TreatyAction {
        kind: api::ActionKind::Denunciation as i32,
        note: "synthetic: a test of Article 47".into(),
        ..ratification("countries/AL", "2026-01-15")
    };
    treaties
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest { treaty_action: Some(denunciation), request_id: String::new() },
            "editor-token",
        ))
        .await
        .expect("a party may denounce");
    let status_on = |(y, m, d)| {
        let mut countries = countries.clone();
        async move {
            let al = countries
                .get_country(api::GetCountryRequest { name: "countries/AL".into(), as_of: Some(date(y, m, d)) })
                .await
                .unwrap()
                .into_inner();
            let t = al.treaty_statuses.iter().find(|t| t.treaty == "treaties/185").expect("ETS 185");
            (t.status, t.entry.as_ref().is_some_and(|e| e.uncertain))
        }
    };
    let party = api::StateStatus::Party as i32;
    assert_eq!(status_on((2026, 1, 15)).await, (party, false));
    assert_eq!(status_on((2026, 4, 30)).await, (party, false));
    let after = status_on((2026, 5, 1)).await;
    assert_ne!(after.0, party, "still a party after the denunciation took effect");
    // The status table agrees.
    let table = treaties
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2026, 5, 1)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let group = table.groups.iter().find(|g| g.states.iter().any(|e| e.country == "countries/AL")).unwrap();
    assert_ne!(group.status, party);
}

/// The README's ListDeclarations block, run as written (only the address replaced).
#[test]
fn the_readme_block_runs_as_written() {
    let Some(bin) = grpcurl() else { return };
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
    let marker = "<!-- tested: grpcurl-declarations -->\n```sh\n";
    let at = readme.find(marker).expect("the README's grpcurl-declarations block") + marker.len();
    let block = &readme[at..at + readme[at..].find("\n```\n").expect("a closed block")];
    let server = TestServer::start();
    let script = block.replace("127.0.0.1:50051", &server.addr);
    let path = format!("{}:{}", bin.parent().expect("folder").display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash").args(["-euo", "pipefail", "-c", &script]).env("PATH", path).output().expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(r#""authority": "Ministry of Justice, Tirana""#), "{text}");
    assert!(text.contains("DECLARATION_STANDING_STANDS"), "{text}");
}
