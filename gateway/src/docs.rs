//! The API documentation at `/api/docs`: every service's `GET /openapi.json`, fetched
//! through its healthy instances and merged into one OpenAPI document.
//!
//! The merged document is cached for [`CACHE_TTL`], so reloading the docs page does not
//! fan out to every service each time. A service that cannot be fetched does not fail
//! the document: it is named in `info.description`, and its operations are missing until
//! a later fetch succeeds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use comanda_kit::openapi::OPENAPI_PATH;
use tokio::sync::Mutex;
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

use crate::routing::Service;
use crate::upstreams::{Upstream, Upstreams};

/// How long a merged document is served before the services are asked again.
pub const CACHE_TTL: Duration = Duration::from_secs(10);
/// How long one instance gets to answer `GET /openapi.json`.
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// Fetches, merges and caches the services' documents.
pub struct Docs {
    upstreams: Arc<Upstreams>,
    client: reqwest::Client,
    /// The last merged document and when it was merged. An async mutex, so that
    /// concurrent requests after expiry wait for one fetch instead of each starting one.
    cached: Mutex<Option<(Instant, Arc<OpenApi>)>>,
}

impl Docs {
    /// Documentation of the services in `upstreams`; nothing is fetched until asked.
    pub fn new(upstreams: Arc<Upstreams>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .no_proxy()
            .build()?;
        Ok(Self {
            upstreams,
            client,
            cached: Mutex::new(None),
        })
    }

    /// The merged document: the cached one while fresh, else fetched and merged anew.
    pub async fn document(&self) -> Arc<OpenApi> {
        let mut cached = self.cached.lock().await;
        if let Some((merged_at, doc)) = cached.as_ref() {
            if merged_at.elapsed() < CACHE_TTL {
                return doc.clone();
            }
        }
        let fetches = self
            .upstreams
            .iter()
            .map(|upstream| async move { (upstream.service, self.fetch(upstream).await) });
        let doc = Arc::new(merge(futures::future::join_all(fetches).await));
        *cached = Some((Instant::now(), doc.clone()));
        doc
    }

    /// `upstream`'s document from the first healthy instance that serves one.
    async fn fetch(&self, upstream: &Upstream) -> Result<OpenApi, String> {
        let mut failure = "no healthy instance".to_owned();
        for instance in upstream.instances.iter().filter(|i| i.is_healthy()) {
            let url = format!("{}{OPENAPI_PATH}", instance.base_url);
            let fetched = async {
                self.client
                    .get(&url)
                    .send()
                    .await?
                    .error_for_status()?
                    .json::<OpenApi>()
                    .await
            };
            match fetched.await {
                Ok(doc) => return Ok(doc),
                Err(error) => {
                    tracing::warn!(service = %upstream.service, %url, %error, "cannot fetch its API document");
                    failure = error.to_string();
                }
            }
        }
        Err(failure)
    }
}

/// One document from every service's (in the order given): their paths, schemas,
/// security schemes and tags. Services whose document could not be fetched are named
/// in the description.
pub fn merge(fetched: Vec<(Service, Result<OpenApi, String>)>) -> OpenApi {
    let mut merged = OpenApiBuilder::new().build();
    let mut missing = Vec::new();
    for (service, doc) in fetched {
        match doc {
            Ok(doc) => {
                warn_of_schema_clashes(&merged, &doc, service);
                merged.merge(doc);
            }
            Err(reason) => missing.push(format!("- the {service} service: {reason}")),
        }
    }
    let mut description = "Every Comanda service's API, through the gateway. Sign in with \
        `POST /api/v1/auth/login` and use the access token with **Authorize**."
        .to_owned();
    if !missing.is_empty() {
        description
            .push_str("\n\n**Unavailable now**, so their operations are missing from this page:\n");
        description.push_str(&missing.join("\n"));
    }
    merged.info = InfoBuilder::new()
        .title("Comanda API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(description))
        .build();
    merged
}

/// Two services defining one schema name differently would silently lose one
/// definition in the merge (the first wins): say so in the logs.
fn warn_of_schema_clashes(merged: &OpenApi, doc: &OpenApi, service: Service) {
    let (Some(have), Some(new)) = (&merged.components, &doc.components) else {
        return;
    };
    for (name, schema) in &new.schemas {
        if have
            .schemas
            .get(name)
            .is_some_and(|existing| existing != schema)
        {
            tracing::warn!(%service, schema = %name, "schema name clash; the first definition is kept");
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};

    use super::*;

    fn doc(path: &str) -> OpenApi {
        let item = PathItem::new(HttpMethod::Get, OperationBuilder::new().build());
        OpenApiBuilder::new()
            .paths(PathsBuilder::new().path(path, item))
            .build()
    }

    #[test]
    fn the_merged_document_has_the_paths_of_every_fetched_service() {
        let merged = merge(vec![
            (Service::Auth, Ok(doc("/api/v1/auth/login"))),
            (Service::Order, Ok(doc("/api/v1/orders"))),
        ]);
        let paths: Vec<_> = merged.paths.paths.keys().map(String::as_str).collect();
        assert_eq!(paths, ["/api/v1/auth/login", "/api/v1/orders"]);
        assert_eq!(merged.info.title, "Comanda API");
        let description = merged.info.description.unwrap_or_default();
        assert!(!description.contains("Unavailable"), "{description}");
    }

    #[test]
    fn a_service_that_could_not_be_fetched_is_named_in_the_description() {
        let merged = merge(vec![
            (Service::Auth, Ok(doc("/api/v1/auth/login"))),
            (Service::Product, Err("connection refused".to_owned())),
        ]);
        assert_eq!(merged.paths.paths.len(), 1);
        let description = merged.info.description.unwrap_or_default();
        assert!(
            description.contains("the product service: connection refused"),
            "{description}"
        );
    }
}
