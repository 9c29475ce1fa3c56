//! One row of the route table ([`Operation`]) and the builder every API's rows are written
//! with: `op(method, path, id, summary, access, status)` and then what differs from the usual
//! (request and response schemas, query parameters, extra error statuses). Each dialect folder
//! writes its own rows with it (`dialects/<api>/openapi.rs`).

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// No credentials (health, invitation links, sign-in, this document).
    Public,
    /// An account member's API key or session token; the role and scopes decide further.
    Member,
    /// The operator key (`/admin`, `/metrics`).
    Operator,
}

/// A query parameter: name and what it does.
pub(crate) type Param = (&'static str, &'static str);

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub method: &'static str,
    /// The OpenAPI path template (the router's own pattern).
    pub path: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub status: u16,
    /// Another success status some requests get (the settings catalog answers 200 to one setting's creation).
    pub also: Option<u16>,
    pub request: Option<&'static str>,
    /// Content type of the request body when it is not JSON (the token grant's form).
    pub request_media: Option<&'static str>,
    pub response: Option<&'static str>,
    /// Content type of the success body when it is not JSON.
    pub media: Option<&'static str>,
    pub query: &'static [Param],
    /// The answer is `Cache-Control: no-store`: it gets no validator, so no 304 (conditional.rs).
    pub no_store: bool,
    /// The success body may also be YAML (`?format=yaml`).
    pub yaml: bool,
    /// A write that honours `If-Match`/`If-None-Match` (412 when they fail) and answers the
    /// new `ETag` (preconditions.rs).
    pub conditional: bool,
    /// Error statuses this operation answers besides the ones every operation of its kind can
    /// (see `openapi::error_statuses`): conflicts, gone invitations, business rules.
    pub errors: &'static [u16],
}

pub(crate) fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    access: Access,
    status: u16,
) -> Operation {
    Operation {
        method,
        path,
        id,
        summary,
        access,
        status,
        also: None,
        request: None,
        request_media: None,
        response: None,
        media: None,
        query: &[],
        no_store: false,
        yaml: false,
        conditional: false,
        errors: &[],
    }
}

impl Operation {
    pub(crate) fn req(mut self, schema: &'static str) -> Self {
        self.request = Some(schema);
        self
    }

    /// The success body is YAML when asked (`?format=yaml`).
    pub(crate) fn yaml(mut self) -> Self {
        self.yaml = true;
        self
    }

    pub(crate) fn res(mut self, schema: &'static str) -> Self {
        self.response = Some(schema);
        self
    }

    pub(crate) fn also(mut self, status: u16) -> Self {
        self.also = Some(status);
        self
    }

    pub(crate) fn media(mut self, media: &'static str) -> Self {
        self.media = Some(media);
        self
    }

    pub(crate) fn query(mut self, params: &'static [Param]) -> Self {
        self.query = params;
        self
    }

    pub(crate) fn conditional(mut self) -> Self {
        self.conditional = true;
        self
    }

    pub(crate) fn errors(mut self, statuses: &'static [u16]) -> Self {
        self.errors = statuses;
        self
    }

    pub(crate) fn no_store(mut self) -> Self {
        self.no_store = true;
        self
    }

    /// A form-encoded request body (`application/x-www-form-urlencoded`) of `schema`.
    pub(crate) fn form(mut self, schema: &'static str) -> Self {
        self.request = Some(schema);
        self.request_media = Some("application/x-www-form-urlencoded");
        self
    }
}

/// The query of a list paginated with a cursor.
pub(crate) const PAGE: &[Param] = &[
    ("limit", "Page size, 1 to 100"),
    ("cursor", "Opaque cursor from the previous page"),
];
