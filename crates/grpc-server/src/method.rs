//! Every method of the API, declared once: its service (tonic's generated `SERVICE_NAME`), its name, the role it
//! needs and whether it is answered with bytes encoded once (`encoded.rs`).
//!
//! The handlers are served through `Services::serve` (`service/mod.rs`), which logs, authorises by the role
//! declared here and maps errors, for every method alike. The encoded-answer routing, the health service's names
//! and the `requests` fuzz target's list of methods are derived from this table; a test checks it against the
//! services and methods of `proto/` (the descriptor set), so that a method renamed there cannot fall through.

use crate::{
    auth::Role,
    pb::coe::cybercrime::v1::{
        activity_service_server::SERVICE_NAME as ACTIVITY, admin_service_server::SERVICE_NAME as ADMIN,
        change_service_server::SERVICE_NAME as CHANGE, country_service_server::SERVICE_NAME as COUNTRY,
        programme_service_server::SERVICE_NAME as PROGRAMME, report_service_server::SERVICE_NAME as REPORT,
        treaty_service_server::SERVICE_NAME as TREATY,
    },
};

/// Declares the methods, service by service: `Name: Role` or `Name: Role, encoded`. The variant's name is the
/// method's name in `proto/`. A service may have more than one block (a new method is added at the end).
macro_rules! methods {
    ($($service:ident { $($method:ident: $role:ident $(, $encoded:ident)?;)+ })+) => {
        /// A method of the API (its name in `proto/`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Method {
            $($(
                #[doc = concat!("`", stringify!($method), "`.")]
                $method,
            )+)+
        }

        impl Method {
            /// Every method, in the order of the table: the `requests` fuzz target's selector order, so a new
            /// method goes at the end of the table (a second block of its service is fine there).
            pub const ALL: [Method; [$($(stringify!($method)),+),+].len()] = [$($(Method::$method),+),+];

            /// The full name of its service, e.g. `coe.cybercrime.v1.TreatyService`.
            pub fn service(self) -> &'static str {
                match self {
                    $($(Method::$method => $service,)+)+
                }
            }

            /// Its place in [`Method::ALL`] (for tables indexed by method).
            pub fn index(self) -> usize {
                self as usize
            }

            /// Its name, e.g. `GetTreatyStatus`.
            pub fn name(self) -> &'static str {
                match self {
                    $($(Method::$method => stringify!($method),)+)+
                }
            }

            /// The role a caller needs: [`Role::Reader`] for a read (anonymous callers too, unless reads need a
            /// token), [`Role::Editor`] for a write, [`Role::Admin`] for AdminService.
            pub fn role(self) -> Role {
                match self {
                    $($(Method::$method => Role::$role,)+)+
                }
            }

            /// Answered with bytes encoded once (`encoded.rs`) rather than by the generated server.
            pub fn encoded(self) -> bool {
                match self {
                    $($(Method::$method => methods!(@encoded $($encoded)?),)+)+
                }
            }
        }
    };
    (@encoded) => { false };
    (@encoded encoded) => { true };
}

methods! {
    TREATY {
        ListTreaties: Reader;
        GetTreaty: Reader;
        GetTreatyStatus: Reader, encoded;
        GetRatificationTimeline: Reader;
        ListTreatyActions: Reader;
        RecordTreatyAction: Editor;
        WatchTreatyActions: Reader;
    }
    ACTIVITY {
        ListActivities: Reader, encoded;
        GetActivity: Reader;
        CreateActivity: Editor;
        UpdateActivity: Editor;
        DeleteActivity: Editor;
        GetActivityPlan: Reader;
    }
    COUNTRY {
        ListCountries: Reader;
        GetCountry: Reader, encoded;
    }
    PROGRAMME {
        GetProgramme: Reader;
        ListStudies: Reader;
        GetStudy: Reader;
        ListOrganisations: Reader;
        GetOrganisation: Reader;
    }
    REPORT {
        GenerateProgressReport: Reader;
        GenerateCountryBrief: Reader;
    }
    ADMIN {
        ListUnreadableRecords: Admin;
        DeleteUnreadableRecord: Admin;
    }
    CHANGE {
        WatchChanges: Reader;
    }
    TREATY {
        GetTreatyAction: Reader;
        UpdateTreatyAction: Editor;
        DeleteTreatyAction: Editor;
        ListDeclarations: Reader;
    }
}

impl Method {
    /// The HTTP/2 path of a call, `/coe.cybercrime.v1.TreatyService/GetTreatyStatus`.
    pub fn path(self) -> String {
        format!("/{}/{}", self.service(), self.name())
    }

    /// `TreatyService/GetTreatyStatus`: the service's short name and the method's.
    pub fn short_name(self) -> String {
        let service = self.service();
        format!("{}/{}", service.rsplit('.').next().unwrap_or(service), self.name())
    }

    /// A write or an admin's method: anonymous callers and readers are refused.
    pub fn writes(self) -> bool {
        self.role() != Role::Reader
    }

    /// The method of `path`, if it is one.
    pub fn of_path(path: &str) -> Option<Method> {
        let (service, name) = path.strip_prefix('/')?.split_once('/')?;
        Method::ALL.into_iter().find(|m| m.service() == service && m.name() == name)
    }
}

/// The services, in the order of the table: what the health service reports on (with `""`, the server).
pub fn services() -> Vec<&'static str> {
    let mut services: Vec<&'static str> = Vec::new();
    for m in Method::ALL {
        if !services.contains(&m.service()) {
            services.push(m.service());
        }
    }
    services
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    /// The table names exactly the services and methods of `proto/`, streams where the proto streams.
    #[test]
    fn the_table_is_the_contract() {
        let fds = prost_types::FileDescriptorSet::decode(crate::pb::FILE_DESCRIPTOR_SET).expect("the descriptor set");
        let mut in_proto = Vec::new();
        for file in fds.file.iter().filter(|f| f.package() == "coe.cybercrime.v1") {
            for service in &file.service {
                for method in &service.method {
                    in_proto.push(format!("/{}.{}/{}", file.package(), service.name(), method.name()));
                }
            }
        }
        in_proto.sort();
        let mut in_table: Vec<String> = Method::ALL.iter().map(|m| m.path()).collect();
        in_table.sort();
        assert_eq!(in_table, in_proto);
        for m in Method::ALL {
            assert_eq!(Method::of_path(&m.path()), Some(m));
        }
        assert_eq!(Method::of_path("/coe.cybercrime.v1.TreatyService/NoSuchMethod"), None);
        assert_eq!(services(), [TREATY, ACTIVITY, COUNTRY, PROGRAMME, REPORT, ADMIN, CHANGE]);
        assert_eq!(Method::GetTreatyStatus.short_name(), "TreatyService/GetTreatyStatus");
    }
}
