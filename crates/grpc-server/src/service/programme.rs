//! ProgrammeService: the programme with its indicators' values at a date, studies (from the records read at
//! start-up) and organisations (from the store).

use storage::{Record, RecordKind};
use tonic::Request;

use super::{Answer, Services, page, page_of, today};
use crate::{
    convert::{self as c, programme as convert},
    error::ServiceError,
    method::Method,
    pb::coe::cybercrime::v1::{self as pb, programme_service_server::ProgrammeService},
};

#[tonic::async_trait]
impl ProgrammeService for Services {
    async fn get_programme(&self, request: Request<pb::GetProgrammeRequest>) -> Answer<pb::Programme> {
        self.serve(Method::GetProgramme, request, |_, request| async move {
            let as_of = c::opt_full_date("as_of", request.get_ref().as_of.as_ref())?.unwrap_or_else(today);
            Ok(convert::programme(&self.0.records, as_of))
        })
        .await
    }

    async fn list_studies(&self, request: Request<pb::ListStudiesRequest>) -> Answer<pb::ListStudiesResponse> {
        self.serve(Method::ListStudies, request, |_, request| async move {
            let r = request.get_ref();
            let (items, next_page_token) =
                page_of(&self.0.records.studies, core_model::names::STUDIES, r.page_size, &r.page_token)?;
            // Studies are read at start-up and change only by an import, which the change feed tells as a RESET:
            // this list is the store at any position since, the current one included.
            let change_sequence = self.0.store.change_sequence().await?;
            Ok(pb::ListStudiesResponse {
                studies: items.iter().map(convert::study).collect(),
                next_page_token,
                change_sequence,
            })
        })
        .await
    }

    async fn get_study(&self, request: Request<pb::GetStudyRequest>) -> Answer<pb::Study> {
        self.serve(Method::GetStudy, request, |_, request| async move {
            let name = &request.get_ref().name;
            let id = c::name_id("name", name, core_model::names::STUDIES)?;
            self.0
                .records
                .studies
                .iter()
                .find(|s| s.id == id)
                .map(convert::study)
                .ok_or_else(|| ServiceError::NotFound(name.clone()))
        })
        .await
    }

    async fn list_organisations(
        &self,
        request: Request<pb::ListOrganisationsRequest>,
    ) -> Answer<pb::ListOrganisationsResponse> {
        self.serve(Method::ListOrganisations, request, |_, request| async move {
            let r = request.get_ref();
            let request = page(r.page_size, &r.page_token)?;
            let store = &*self.0.store;
            let (p, change_sequence) =
                storage::at_one_sequence(store, || store.list_records(RecordKind::Organisation, &request)).await?;
            let organisations = p
                .items
                .iter()
                .filter_map(|v| match &v.record {
                    Record::Organisation(o) => Some(convert::organisation(o, v)),
                    _ => None,
                })
                .collect();
            Ok(pb::ListOrganisationsResponse { organisations, next_page_token: p.next_page_token, change_sequence })
        })
        .await
    }

    async fn get_organisation(&self, request: Request<pb::GetOrganisationRequest>) -> Answer<pb::Organisation> {
        self.serve(Method::GetOrganisation, request, |_, request| async move {
            let id = c::name_id("name", &request.get_ref().name, core_model::names::ORGANISATIONS)?;
            let v = self.0.store.get_record(RecordKind::Organisation, id).await?;
            match &v.record {
                Record::Organisation(o) => Ok(convert::organisation(o, &v)),
                _ => Err(ServiceError::NotFound(request.get_ref().name.clone())),
            }
        })
        .await
    }
}
