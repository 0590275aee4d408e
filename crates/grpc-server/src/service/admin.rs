//! AdminService: what an admin needs to keep the store whole. Stored records that cannot be read back (a bug, or
//! a database edited by hand) are listed with the text they hold, and deleted one by one, each with an audit entry.

use tonic::Request;

use super::{Answer, Services, write_ctx};
use crate::{
    convert as c,
    error::ServiceError,
    method::Method,
    pb::coe::cybercrime::v1::{self as pb, admin_service_server::AdminService},
};

#[tonic::async_trait]
impl AdminService for Services {
    async fn list_unreadable_records(
        &self,
        request: Request<pb::ListUnreadableRecordsRequest>,
    ) -> Answer<pb::ListUnreadableRecordsResponse> {
        self.serve(Method::ListUnreadableRecords, request, |_, _| async move {
            let found = self.0.store.find_unreadable().await?;
            Ok(pb::ListUnreadableRecordsResponse { records: found.into_iter().map(c::stored_unreadable).collect() })
        })
        .await
    }

    async fn delete_unreadable_record(&self, request: Request<pb::DeleteUnreadableRecordRequest>) -> Answer<()> {
        self.serve(Method::DeleteUnreadableRecord, request, |principal, request| async move {
            let r = request.get_ref();
            if r.name.is_empty() {
                return Err(ServiceError::invalid("name", "required: the name of an unreadable record"));
            }
            let ctx = write_ctx(&principal.name, &r.request_id)?;
            self.0.store.delete_unreadable(&ctx, &r.name).await?;
            Ok(())
        })
        .await
    }
}
