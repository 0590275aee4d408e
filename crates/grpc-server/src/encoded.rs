//! The hot reads answered with bytes encoded once, rather than a message built and encoded per request.
//!
//! A status table (8 KB), a country's page and a page of 50 activities (20 KB) are the same bytes for as long as
//! their data does not change: the status tables and country pages are kept encoded per snapshot version
//! ([`crate::memo`]), and each activity is kept encoded per version (the store hands out one shared value per
//! version of an activity, [`storage::Store::list_activities`]), so a page is put together by copying bytes.
//!
//! tonic's generated servers encode the message their handler returns. [`Encoded`] wraps a generated server and
//! serves the hot methods itself (those [`Method::encoded`] marks, routed by the paths the method table gives),
//! through tonic's own [`tonic::server::Grpc`] (the same framing, limits, status and trailers) with a codec whose
//! answers are bytes; every other method goes to the generated server. The service traits' methods for the hot
//! methods decode those bytes, so the two paths give one answer.

use std::{
    collections::HashMap,
    convert::Infallible,
    marker::PhantomData,
    sync::{Arc, RwLock},
    task::{Context, Poll},
};

use bytes::{BufMut, Bytes, BytesMut};
use core_model::Activity;
use prost::Message;
use storage::Versioned;
use tonic::{
    Request, Response, Status,
    body::Body,
    codec::{Codec, EncodeBuf, Encoder},
    codegen::{Body as HttpBody, BoxFuture, Service, StdError, http},
    server::NamedService,
};
use tonic_prost::ProstDecoder;

use crate::{method::Method, pb::coe::cybercrime::v1 as pb, server::MAX_MESSAGE_SIZE, service::Services};

/// The bytes of an answer, decoded into its message: for the service traits' methods.
pub(crate) fn decoded<M: Message + Default>(
    answer: std::result::Result<Response<Bytes>, Status>,
) -> std::result::Result<Response<M>, Status> {
    let (metadata, bytes, extensions) = answer?.into_parts();
    let message = M::decode(bytes).map_err(|e| Status::internal(format!("an encoded answer did not decode: {e}")))?;
    Ok(Response::from_parts(metadata, message, extensions))
}

/// An activity's encoding, and the version it encodes.
#[derive(Debug)]
struct Kept {
    /// The version's etag.
    etag: String,
    /// The store's shared value of that version. Etags are unique over an activity's life (the audit position of
    /// the write that made the version), but an import with history keeps the etags it was exported with: the
    /// shared value is compared too.
    version: Arc<Versioned<Activity>>,
    /// The encoded `Activity` message.
    bytes: Bytes,
}

/// Each activity's encoding, kept while its version is the one the store holds; at most `capacity` of them
/// (when full it starts again empty).
#[derive(Debug)]
pub(crate) struct EncodedActivities {
    /// By the activity's id; an entry answers for the version with its etag that is the same shared value.
    /// Read-locked for a page whose every activity is kept (the common case: callers never wait for each other);
    /// write-locked only to add what is missing.
    kept: RwLock<(HashMap<String, Kept, foldhash::fast::RandomState>, usize)>,
    capacity: usize,
    /// At most this many bytes of encodings are kept (with the count, a bound on the memory the cache holds
    /// whatever the activities' sizes).
    max_bytes: usize,
}

impl EncodedActivities {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        EncodedActivities { kept: RwLock::new((HashMap::default(), 0)), capacity, max_bytes }
    }

    /// Each item's encoded message, made by `message` the first time it is seen.
    pub(crate) fn encodings(
        &self,
        items: &[Arc<Versioned<Activity>>],
        message: impl Fn(&Versioned<Activity>) -> pb::Activity,
    ) -> Vec<Bytes> {
        let kept_for = |kept: &HashMap<String, Kept, _>, item: &Arc<Versioned<Activity>>| {
            kept.get(item.record.id.as_str())
                .filter(|k| k.etag == item.etag && Arc::ptr_eq(&k.version, item))
                .map(|k| k.bytes.clone())
        };
        {
            let guard = self.kept.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(all) = items.iter().map(|item| kept_for(&guard.0, item)).collect() {
                return all;
            }
        }
        let mut guard = self.kept.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (kept, bytes_kept) = &mut *guard;
        items
            .iter()
            .map(|item| {
                let id = item.record.id.as_str();
                if let Some(bytes) = kept_for(kept, item) {
                    return bytes;
                }
                let bytes = Bytes::from(message(item).encode_to_vec());
                if let Some(old) = kept.remove(id) {
                    *bytes_kept -= old.bytes.len();
                }
                if kept.len() >= self.capacity || *bytes_kept + bytes.len() > self.max_bytes {
                    kept.clear();
                    *bytes_kept = 0;
                }
                *bytes_kept += bytes.len();
                let entry = Kept { etag: item.etag.clone(), version: item.clone(), bytes: bytes.clone() };
                kept.insert(id.to_owned(), entry);
                bytes
            })
            .collect()
    }

    /// The encoded `ListActivitiesResponse` of `items` and `next_page_token`, each item's message made by
    /// `message` the first time it is seen.
    #[cfg(test)]
    pub(crate) fn page(
        &self,
        items: &[Arc<Versioned<Activity>>],
        next_page_token: &str,
        change_sequence: i64,
        message: impl Fn(&Versioned<Activity>) -> pb::Activity,
    ) -> Bytes {
        page_of_encodings(&self.encodings(items, message), next_page_token, &[], change_sequence)
    }
}

/// The bytes a message's field of this many bytes takes (key, length, value).
pub(crate) fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// The encoded `ListActivitiesResponse` of encoded activities, a `next_page_token`, the records the store
/// could not read and the position of the change log the page shows.
pub(crate) fn page_of_encodings(
    encodings: &[Bytes],
    next_page_token: &str,
    unreadable: &[pb::UnreadableRecord],
    change_sequence: i64,
) -> Bytes {
    {
        // The message's fields, as prost writes them: `repeated Activity activities = 1`, `string
        // next_page_token = 2`, `repeated UnreadableRecord unreadable = 3`, `int64 change_sequence = 15` (a test
        // checks the result against the message encoded by prost). A field added to the message fails this
        // destructuring: write it here too.
        let pb::ListActivitiesResponse { activities: _, next_page_token: _, unreadable: _, change_sequence: _ } =
            pb::ListActivitiesResponse::default();
        let len: usize = encodings.iter().map(|b| field_len(b.len())).sum();
        let mut out = BytesMut::with_capacity(len + next_page_token.len() + 16);
        for b in encodings {
            prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut out);
            prost::encoding::encode_varint(b.len() as u64, &mut out);
            out.put_slice(b);
        }
        if !next_page_token.is_empty() {
            prost::encoding::string::encode(2, &next_page_token.to_owned(), &mut out);
        }
        for u in unreadable {
            prost::encoding::message::encode(3, u, &mut out);
        }
        if change_sequence != 0 {
            prost::encoding::int64::encode(15, &change_sequence, &mut out);
        }
        out.freeze()
    }
}

/// A codec that decodes requests of type `R` and sends answers already encoded.
#[derive(Debug)]
struct AnswerCodec<R>(PhantomData<fn() -> R>);

impl<R: Message + Default + Send + 'static> Codec for AnswerCodec<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = BytesEncoder;
    type Decoder = ProstDecoder<R>;

    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> ProstDecoder<R> {
        ProstDecoder::default()
    }
}

/// Writes an encoded answer as it is.
#[derive(Debug)]
struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

/// A handler as tonic's unary calls take it.
struct Handler<F>(F);

impl<R, F, Fut> Service<Request<R>> for Handler<F>
where
    F: FnMut(Request<R>) -> Fut,
    Fut: Future<Output = std::result::Result<Response<Bytes>, Status>>,
{
    type Response = Response<Bytes>;
    type Error = Status;
    type Future = Fut;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::result::Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<R>) -> Fut {
        (self.0)(request)
    }
}

/// A generated server, with the hot methods of its service answered from encoded bytes.
#[derive(Debug, Clone)]
pub(crate) struct Encoded<S> {
    inner: S,
    services: Services,
    /// The paths of the service's hot methods ([`Method::encoded`]), from the method table.
    hot: Arc<[(String, Method)]>,
}

impl<S: NamedService> Encoded<S> {
    /// `inner`, whose hot methods (if it has any) `services` answers with encoded bytes.
    pub(crate) fn new(inner: S, services: Services) -> Self {
        Encoded::of_service(inner, services, S::NAME)
    }
}

impl<S> Encoded<S> {
    /// `inner`, the server of `service`, whose hot methods `services` answers with encoded bytes.
    fn of_service(inner: S, services: Services, service: &str) -> Self {
        let hot = Method::ALL.into_iter().filter(|m| m.encoded() && m.service() == service).map(|m| (m.path(), m));
        Encoded { inner, services, hot: hot.collect() }
    }
}

impl<S: NamedService> NamedService for Encoded<S> {
    const NAME: &'static str = S::NAME;
}

/// One unary call answered by `handler`, with the generated servers' settings (`configured!` in `server.rs`: the
/// message size limits, and gzip and zstd accepted on requests and sent on answers when the client accepts them:
/// tonic compresses the bytes as it frames them, whatever codec made them).
async fn unary<R, B, F, Fut>(request: http::Request<B>, handler: F) -> http::Response<Body>
where
    R: Message + Default + Send + 'static,
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send,
    F: FnMut(Request<R>) -> Fut,
    Fut: Future<Output = std::result::Result<Response<Bytes>, Status>>,
{
    use tonic::codec::CompressionEncoding::{Gzip, Zstd};
    let mut grpc = tonic::server::Grpc::new(AnswerCodec::<R>(PhantomData))
        .apply_max_message_size_config(Some(MAX_MESSAGE_SIZE), Some(MAX_MESSAGE_SIZE))
        .accept_compressed(Gzip)
        .accept_compressed(Zstd)
        .send_compressed(Gzip)
        .send_compressed(Zstd);
    grpc.unary(Handler(handler), request).await
}

impl<S, B> Service<http::Request<B>> for Encoded<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let s = self.services.clone();
        let path = request.uri().path();
        match self.hot.iter().find(|(p, _)| p == path).map(|(_, m)| *m) {
            Some(Method::GetTreatyStatus) => Box::pin(async move {
                Ok(unary(request, |r: Request<pb::GetTreatyStatusRequest>| {
                    let s = s.clone();
                    async move { s.treaty_status_encoded(r).await }
                })
                .await)
            }),
            Some(Method::GetCountry) => Box::pin(async move {
                Ok(unary(request, |r: Request<pb::GetCountryRequest>| {
                    let s = s.clone();
                    async move { s.country_encoded(r).await }
                })
                .await)
            }),
            Some(Method::ListActivities) => Box::pin(async move {
                Ok(unary(request, |r: Request<pb::ListActivitiesRequest>| {
                    let s = s.clone();
                    async move { s.list_activities_encoded(r).await }
                })
                .await)
            }),
            _ => Box::pin(self.inner.call(request)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{auth::Auth, service::AppState};

    fn versioned(a: &Activity, etag: &str) -> Arc<Versioned<Activity>> {
        Arc::new(Versioned::new(a.clone(), etag.to_owned()))
    }

    #[test]
    fn a_page_is_what_prost_encodes_whether_its_activities_were_kept_or_not() {
        let ds = core_model::Dataset::bundled();
        let items: Vec<_> = ds.activities.iter().take(5).map(|a| versioned(a, "3")).collect();
        // Room for two: the page overflows what is kept, and is still whole.
        let kept = EncodedActivities::new(2, 1 << 20);
        let message = |v: &Versioned<Activity>| crate::convert::activity::activity(v);
        for (token, sequence) in [("", 0), ("next-page", 4711)] {
            let expected = pb::ListActivitiesResponse {
                activities: items.iter().map(|v| message(v)).collect(),
                next_page_token: token.to_owned(),
                unreadable: Vec::new(),
                change_sequence: sequence,
            }
            .encode_to_vec();
            for round in 0..2 {
                let got = kept.page(&items, token, sequence, message).to_vec();
                assert_eq!(got, expected, "token {token:?}, round {round}");
            }
        }
        assert_eq!(kept.page(&[], "", 0, message).len(), 0, "an empty page is an empty message");
        // A new version of an activity is a new value: its encoding is made anew.
        let mut changed = (*items[0]).clone();
        changed.record.title = "Changed".to_owned();
        let changed = Arc::new(changed);
        let decoded = pb::ListActivitiesResponse::decode(kept.page(&[changed], "", 0, message)).unwrap();
        assert_eq!(decoded.activities[0].title, "Changed");
    }

    /// The generated server, counting the calls that reach it.
    #[derive(Clone)]
    struct Counting(Arc<AtomicUsize>);

    impl Service<http::Request<Body>> for Counting {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = BoxFuture<Self::Response, Infallible>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(Status::unimplemented("generated").into_http()) })
        }
    }

    /// A gRPC request frame of `message` (ASCII, so that it fits a `String` body).
    fn request(path: &str, message: &impl Message) -> http::Request<Body> {
        let bytes = message.encode_to_vec();
        let mut frame = vec![0u8];
        frame.extend((bytes.len() as u32).to_be_bytes());
        frame.extend(bytes);
        let body = String::from_utf8(frame).expect("an ASCII frame");
        http::Request::builder()
            .method("POST")
            .uri(format!("http://localhost{path}"))
            .header("content-type", "application/grpc")
            .body(Body::new(body))
            .expect("request")
    }

    #[tokio::test]
    async fn the_hot_methods_are_answered_here_and_the_others_by_the_generated_server() {
        let store = storage::open("sqlite::memory:").await.expect("store");
        let records = AppState::load_records(&*store).await.expect("records");
        let (_, shutdown) = tokio::sync::watch::channel(false);
        let services = Services(Arc::new(AppState::new(store, Auth::anonymous_only(false), records, shutdown, 4)));
        let reached = Arc::new(AtomicUsize::new(0));
        let encoded = |service: &str| Encoded::of_service(Counting(reached.clone()), services.clone(), service);
        let hot = [
            request(
                &Method::GetTreatyStatus.path(),
                &pb::GetTreatyStatusRequest { name: "treaties/185".into(), as_of: None, ..Default::default() },
            ),
            request(&Method::GetCountry.path(), &pb::GetCountryRequest { name: "countries/PH".into(), as_of: None }),
            request(&Method::ListActivities.path(), &pb::ListActivitiesRequest { page_size: 3, ..Default::default() }),
        ];
        // Every method the table marks as encoded is tried here.
        let mut tried: Vec<String> = hot.iter().map(|r| r.uri().path().to_owned()).collect();
        let mut marked: Vec<String> = Method::ALL.into_iter().filter(|m| m.encoded()).map(Method::path).collect();
        tried.sort();
        marked.sort();
        assert_eq!(tried, marked);
        for r in hot {
            let path = r.uri().path().to_owned();
            let service = Method::of_path(&path).expect("a method").service();
            let answer = encoded(service).call(r).await.expect("infallible");
            assert_eq!(answer.status(), http::StatusCode::OK, "{path}");
            assert!(answer.headers().get("grpc-status").is_none(), "{path}: not a trailers-only error");
            assert_eq!(reached.load(Ordering::SeqCst), 0, "{path} reached the generated server");
        }
        let other = request(&Method::GetTreaty.path(), &pb::GetTreatyRequest { name: "treaties/185".into() });
        let answer = encoded(Method::GetTreaty.service()).call(other).await.expect("infallible");
        assert_eq!(answer.headers().get("grpc-status").map(|v| v.to_str().unwrap().to_owned()), Some("12".into()));
        assert_eq!(reached.load(Ordering::SeqCst), 1);
    }
}
