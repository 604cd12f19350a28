//! The e-mail outbox across restarts: a message queued while the mail server is down survives a
//! restart of Gatehouse and arrives exactly once; a message leased by a node that died before it
//! recorded the send waits for the lease to end, then exactly one node sends it.

use std::time::Duration;

use gatehouse_store::outbox::OutgoingEmail;
use sea_orm::{ConnectionTrait as _, Statement};

use crate::harness::*;

/// How long the dead node leased its message for (any lease will do; this is the workers' own).
const LEASE: i64 = 120;

/// The ids of the outbox rows addressed to `to`, oldest first.
async fn outbox_ids(db: &gatehouse_store::Database, to: &str) -> Vec<String> {
    let conn = db.connection();
    let backend = conn.get_database_backend();
    let placeholder = match backend {
        sea_orm::DatabaseBackend::Postgres => "$1",
        _ => "?",
    };
    conn.query_all(Statement::from_sql_and_values(
        backend,
        format!("SELECT id FROM outbox WHERE recipient = {placeholder} ORDER BY created_at, id"),
        [to.into()],
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| row.try_get::<String>("", "id").unwrap())
    .collect()
}

/// Every message the sink received for `to`, as it arrived (no waiting).
async fn received_by(
    sink: &gatehouse_notify::smtp_sink::SmtpSink,
    to: &str,
) -> Vec<gatehouse_notify::smtp_sink::ReceivedEmail> {
    sink.messages()
        .await
        .into_iter()
        .filter(|m| m.to == [to.to_owned()])
        .collect()
}

/// Waits until the sink has received something for `to`.
async fn wait_for_mail_to(server: &TestServer, to: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while received_by(&server.smtp, to).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing arrived for {to}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn note(to: &str, subject: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.into(),
        subject: subject.into(),
        text: format!("{subject}.\n"),
        html: None,
    }
}

#[tokio::test]
async fn a_code_asked_for_while_the_mail_server_is_down_arrives_exactly_once_after_a_restart() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    server.smtp.set_refusing(true);
    let browser = browser();
    let form = page_at(&server, &browser, "/password/forgot").await;
    let asked = submit_form(&server, &browser, &form, &[("email", "ann@example.com")]).await;
    assert_eq!(asked.status(), 200);
    let code_page = asked.text().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.smtp.refused() == 0 {
        assert!(std::time::Instant::now() < deadline, "no attempt to send");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ids = outbox_ids(&server.db, "ann@example.com").await;
    assert_eq!(ids.len(), 1);

    // Gatehouse restarts (a deployment) while the message waits for its retry.
    let server = server.restart().await;
    assert_eq!(
        server.db.outbox_depth().await.unwrap(),
        1,
        "kept across the restart"
    );
    server.smtp.set_refusing(false);
    server.clock.advance(15);
    wait_for_mail_to(&server, "ann@example.com").await;
    server.mail_settled().await;

    // Another restart, and a later message through the same worker: the code is not sent again.
    let server = server.restart().await;
    server.clock.advance(LEASE);
    server.add_user("bob@example.com").await;
    let other = crate::harness::browser();
    let form = page_at(&server, &other, "/password/forgot").await;
    submit_form(&server, &other, &form, &[("email", "bob@example.com")]).await;
    wait_for_mail_to(&server, "bob@example.com").await;
    let received = received_by(&server.smtp, "ann@example.com").await;
    assert_eq!(received.len(), 1, "sent exactly once");
    assert_eq!(
        received[0].header("Message-ID").unwrap(),
        format!("<{}@gatehouse.test>", ids[0]),
        "the Message-ID is the outbox message's"
    );

    // The code works on the restarted server, in the browser that asked for it.
    let code = six_digits(&received[0].body_text());
    let entered = submit_form(&server, &browser, &code_page, &[("code", &code)]).await;
    assert_eq!(entered.status(), 200);
    assert!(
        entered
            .text()
            .await
            .unwrap()
            .contains("Choose a new password")
    );
}

#[tokio::test]
async fn a_message_leased_by_a_node_that_died_waits_for_the_lease_then_goes_out_exactly_once() {
    let server = TestServer::start().await;
    // The node dies: the last thing it did was lease a message it never sent.
    let dead = server.stop().await;
    let id = dead
        .db
        .enqueue_email(&note("ann@example.com", "Leased"), dead_now(&dead))
        .await
        .unwrap();
    let leased = dead
        .db
        .take_due_emails(dead_now(&dead), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    let leased_until = leased[0].leased_until;

    // Two nodes run on the same database; neither takes the message while the lease lasts.
    let first = dead.start().await;
    let second = first.second_node().await;
    let advance = |seconds: i64| {
        first.clock.advance(seconds);
        second.clock.advance(seconds);
    };
    // (Ten seconds short of its end: the test clocks move with real time too.)
    advance(leased_until - first.now() - 10);
    for (n, server) in [&first, &second].into_iter().enumerate() {
        // A message queued now is sent by the next round of some worker; a round takes every
        // due message, oldest first, so the leased one would go out with it were it due.
        let marker = format!("marker{n}@example.com");
        server
            .db
            .enqueue_email(&note(&marker, "Marker"), server.now())
            .await
            .unwrap();
        wait_for_mail_to(&first, &marker).await;
        assert!(
            received_by(&first.smtp, "ann@example.com").await.is_empty(),
            "sent while another node's lease lasted"
        );
    }

    // The lease ends: both workers look, one takes it.
    advance(10);
    wait_for_mail_to(&first, "ann@example.com").await;
    first.mail_settled().await;
    advance(3600);
    second
        .db
        .enqueue_email(&note("last@example.com", "Marker"), second.now())
        .await
        .unwrap();
    wait_for_mail_to(&first, "last@example.com").await;
    let received = received_by(&first.smtp, "ann@example.com").await;
    assert_eq!(received.len(), 1, "sent exactly once");
    assert_eq!(
        received[0].header("Message-ID").unwrap(),
        format!("<{id}@gatehouse.test>")
    );
    drop(second);
}

fn dead_now(dead: &StoppedServer) -> i64 {
    gatehouse_oidc::Clock::now(&*dead.clock)
}
