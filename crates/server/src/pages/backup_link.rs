//! "I can't use my second factor": where the organisation allows it, a one-time sign-in link goes to
//! the person's confirmed backup address. It works once, for 15 minutes, and only in the browser that
//! asked, for the sign-in that asked; it counts as a second factor of the e-mail kind for that sign-in.
//! Both addresses are told.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_mfa::{MethodKind, assurance};
use gatehouse_store::outbox::OutgoingEmail;
use gatehouse_store::sign_in_links::SignInLink;
use gatehouse_store::users::User;
use serde::Deserialize;
use serde_json::json;

use super::flow;
use crate::audit::{self, ClientInfo};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::notify::{self, Destination};
use crate::state::AppState;

/// How long a link works, in seconds.
const LINK_LIFETIME_SECONDS: i64 = 15 * 60;

#[derive(Deserialize)]
pub struct LinkRequest {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    token: String,
}

/// The backup address `user` may get a link at, where their organisation allows it.
pub(super) fn backup_address<'u>(state: &AppState, user: &'u User) -> Option<&'u str> {
    state
        .organisation(&user.organisation_id)
        .filter(|o| o.backup_link)
        .and(user.backup_email.as_deref())
}

/// The person waiting at the second step of `pending`, if that is where it is.
async fn waiting_user(
    state: &AppState,
    pending: &flow::Pending,
) -> Result<Option<User>, PageError> {
    let SignInStep::SecondFactor { user_id, .. } = &pending.step else {
        return Ok(None);
    };
    Ok(state.0.db.user(user_id).await?.filter(|u| !u.disabled))
}

fn link_refused() -> PageError {
    PageError::bad_request("error-backup-link-title", "error-backup-link-text")
}

/// `POST /mfa/backup-link`: sends the link.
pub async fn send(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<LinkRequest>,
) -> Response {
    send_link(&state, jar, peer, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn send_link(
    state: &AppState,
    jar: CookieJar,
    peer: std::net::SocketAddr,
    client: &ClientInfo,
    form: LinkRequest,
) -> Result<Response, PageError> {
    let (pending, browser_id) = flow::load_submitted(state, &jar, &form.flow, &form.csrf).await?;
    let Some(user) = waiting_user(state, &pending).await? else {
        return Err(PageError::expired());
    };
    let Some(address) = backup_address(state, &user) else {
        return Err(link_refused());
    };
    let destination = Destination::new(MethodKind::Email, address.to_owned());
    let now = state.0.provider.now();
    let sent = if notify::may_send(state, &user.id, &destination, peer, now).await? {
        let token = gatehouse_login::csrf::random_id();
        let url = format!(
            "{}/mfa/link?flow={}&token={token}",
            state.0.provider.issuer, pending.id
        );
        let service = &state.0.settings.display_name;
        let mail = notify::themed_email(
            state,
            "backup_link.txt",
            json!({ "url": url, "minutes": LINK_LIFETIME_SECONDS / 60, "service": service }),
            address,
            state.text(&notify::service_text(state, "backup-mail-subject")),
        )
        .map_err(PageError::Internal)?;
        let link = SignInLink {
            token_hash: gatehouse_oidc::token_hash(&token),
            flow_hash: gatehouse_oidc::token_hash(&pending.id),
            browser_hash: gatehouse_oidc::token_hash(&browser_id),
            user_id: user.id.clone(),
            created_at: now,
            expires_at: now + LINK_LIFETIME_SECONDS,
        };
        state.0.db.create_sign_in_link(&link, &mail).await?;
        state.wake_outbox();
        audit::record(
            state,
            Some(&user.id),
            audit_kind::BACKUP_LINK_SENT,
            json!({}),
            client,
        )
        .await;
        notify::security_notice(
            state,
            &user.id,
            Text::new("notice-backup-link-sent").with("address", destination.masked.as_str()),
            client,
        )
        .await;
        tracing::info!(target: "gatehouse::security", "backup sign-in link sent");
        true
    } else {
        false
    };
    let context = json!({
        "sent": sent,
        "sent_to": destination.masked,
        "flow": pending.id,
        "minutes": LINK_LIFETIME_SECONDS / 60,
    });
    Ok((
        jar,
        render_page(state, "backup_link_sent.html", context, StatusCode::OK),
    )
        .into_response())
}

/// `GET /mfa/link`: the link from the e-mail, opened in the browser that asked.
pub async fn open(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    Query(query): Query<LinkQuery>,
) -> Response {
    use_link(&state, jar, &client, query)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn use_link(
    state: &AppState,
    jar: CookieJar,
    client: &ClientInfo,
    query: LinkQuery,
) -> Result<Response, PageError> {
    let Some(browser_id) = jar.get(cookies::BROWSER).map(|c| c.value().to_owned()) else {
        return Err(link_refused());
    };
    let now = state.0.provider.now();
    let Some(link) = state
        .0
        .db
        .use_sign_in_link(
            &gatehouse_oidc::token_hash(&query.token),
            &gatehouse_oidc::token_hash(&browser_id),
            now,
        )
        .await?
    else {
        tracing::warn!(target: "gatehouse::security", "backup sign-in link refused");
        return Err(link_refused());
    };
    if link.flow_hash != gatehouse_oidc::token_hash(&query.flow) {
        return Err(link_refused());
    }
    let (pending, _) = flow::load(state, &jar, &query.flow)
        .await
        .map_err(|_| link_refused())?;
    let user = match waiting_user(state, &pending).await? {
        Some(user) if user.id == link.user_id && backup_address(state, &user).is_some() => user,
        _ => return Err(link_refused()),
    };
    // The link proves the mailbox, as an e-mailed code does: the same `amr` and `acr`.
    let (jar, signed_in) = flow::start_session(
        state,
        jar,
        &user.id,
        assurance::amr(Some(MethodKind::Email)),
        assurance::acr(Some(MethodKind::Email)),
    )
    .await?;
    audit::record(
        state,
        Some(&user.id),
        audit_kind::BACKUP_LINK_USED,
        json!({}),
        client,
    )
    .await;
    let what = Text::new("notice-backup-link-used");
    notify::security_notice(state, &user.id, what.clone(), client).await;
    if let Some(address) = &user.backup_email {
        let notice =
            notify::notice_email(state, &user, what, client).map_err(PageError::Internal)?;
        state
            .queue_email(&OutgoingEmail {
                to: address.clone(),
                ..notice
            })
            .await?;
    }
    tracing::info!(target: "gatehouse::security", "signed in with a backup link");
    flow::continue_signed_in(state, jar, pending, signed_in).await
}
