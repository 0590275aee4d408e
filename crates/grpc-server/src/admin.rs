//! AdminService: what an admin needs to keep the store whole. Stored records that cannot be read back (a bug, or
//! a database edited by hand) are listed with the text they hold, and deleted one by one, each with an audit entry.

use tonic::{Request, Response, Status};

use crate::{
    auth::{Principal, Role},
    error::{Result, ServiceError},
    pb::coe::cybercrime::v1::{self as pb, admin_service_server::AdminService},
    service::{Call, Services},
};

impl Services {
    /// The principal of an admin's call.
    fn admin(&self, metadata: &tonic::metadata::MetadataMap) -> Result<Principal> {
        let p = self.0.auth.principal(metadata)?;
        match p.role {
            None => {
                Err(ServiceError::Unauthenticated("admin methods need a token: `authorization: Bearer TOKEN`".into()))
            }
            Some(Role::Admin) => Ok(p),
            Some(Role::Reader | Role::Editor) => Err(ServiceError::PermissionDenied(format!(
                "{} is not an admin; this method needs the admin role",
                p.name
            ))),
        }
    }
}

#[tonic::async_trait]
impl AdminService for Services {
    async fn list_unreadable_records(
        &self,
        request: Request<pb::ListUnreadableRecordsRequest>,
    ) -> std::result::Result<Response<pb::ListUnreadableRecordsResponse>, Status> {
        let mut call = Call::start("ListUnreadableRecords");
        let result = async {
            call.principal = self.admin(request.metadata())?.name;
            let found = self.0.store.find_unreadable().await?;
            Ok(pb::ListUnreadableRecordsResponse {
                records: found
                    .into_iter()
                    .map(|u| pb::StoredUnreadableRecord {
                        record: Some(pb::UnreadableRecord { name: u.resource, reason: u.reason }),
                        stored: u.body,
                    })
                    .collect(),
            })
        }
        .await;
        call.finish(result)
    }

    async fn delete_unreadable_record(
        &self,
        request: Request<pb::DeleteUnreadableRecordRequest>,
    ) -> std::result::Result<Response<()>, Status> {
        let mut call = Call::start("DeleteUnreadableRecord");
        let result = async {
            let principal = self.admin(request.metadata())?;
            call.principal = principal.name.clone();
            let r = request.get_ref();
            if r.name.is_empty() {
                return Err(ServiceError::invalid("name", "required: the name of an unreadable record"));
            }
            let ctx = crate::service::write_ctx(&principal.name, &r.request_id)?;
            self.0.store.delete_unreadable(&ctx, &r.name).await?;
            Ok(())
        }
        .await;
        call.finish(result)
    }
}
