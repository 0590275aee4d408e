//! CountryService: countries listed, and a country's page (answered as bytes encoded once per country, date and
//! snapshot version).

use bytes::Bytes;
use core_model::{CountryFilter, names};
use prost::Message;
use tonic::Request;

use super::{Answer, Services, page_of, today};
use crate::{
    convert::{self as c, country as convert},
    encoded::decoded,
    error::ServiceError,
    method::Method,
    pb::coe::cybercrime::v1::{self as pb, country_service_server::CountryService},
};

impl Services {
    /// GetCountry: the country's page, encoded once per country, date and snapshot version ([`crate::encoded`]
    /// sends these bytes; the trait's method decodes them).
    pub(crate) async fn country_encoded(&self, request: Request<pb::GetCountryRequest>) -> Answer<Bytes> {
        self.serve(Method::GetCountry, request, |_, request| async move {
            let r = request.get_ref();
            let code = c::country_code("name", &r.name)?;
            let as_of = c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today);
            let snapshot = self.0.store.snapshot();
            let state = snapshot.state(&code).ok_or_else(|| ServiceError::NotFound(c::country_name(&code)))?;
            let answer = self.0.countries.get_or_compute(&(code.clone(), as_of), snapshot.version(), || {
                let data = self.treaty_data(&snapshot);
                let page = data.country_page(&self.0.records, state, as_of);
                Ok::<_, ServiceError>(Bytes::from(convert::country(&page, &data, &snapshot).encode_to_vec()))
            })?;
            Ok(Bytes::clone(&answer))
        })
        .await
    }
}

#[tonic::async_trait]
impl CountryService for Services {
    async fn list_countries(&self, request: Request<pb::ListCountriesRequest>) -> Answer<pb::ListCountriesResponse> {
        self.serve(Method::ListCountries, request, |_, request| async move {
            let r = request.get_ref();
            let as_of = c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today);
            let filter = CountryFilter::parse(&r.filter).map_err(|e| ServiceError::invalid("filter", e.to_string()))?;
            let snapshot = self.0.store.snapshot();
            let data = self.treaty_data(&snapshot);
            let ds = &*data;
            let mut states: Vec<&core_model::State> = ds.states.iter().filter(|s| filter.matches(s)).collect();
            states.sort_by(|a, b| a.code.cmp(&b.code));
            let scope = format!("{}?{}", names::COUNTRIES, r.filter.trim());
            let (items, next_page_token) = page_of(&states, &scope, r.page_size, &r.page_token)?;
            Ok(pb::ListCountriesResponse {
                countries: items
                    .iter()
                    .map(|s| convert::country(&ds.country_page(&self.0.records, s, as_of), ds, &snapshot))
                    .collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn get_country(&self, request: Request<pb::GetCountryRequest>) -> Answer<pb::Country> {
        decoded(self.country_encoded(request).await)
    }
}
