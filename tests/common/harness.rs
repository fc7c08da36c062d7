//! The app as `serve` wires it (`App::start`), pointed at a fake GitHub on
//! loopback; deliveries are signed and sent through the real router.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use hotfix_guard::app::App;
use hotfix_guard::clock::ManualClock;
use hotfix_guard::config::ServeConfig;
use hotfix_guard::server::signature::WebhookSecrets;

use super::fake_github::{APP_ID, FakeGitHub, PullSeed};
use super::webhook::{PrSpec, TestKey, pull_request_event, sign};

pub const SECRET: &str = "harness-secret";
pub const REPO: &str = "octo/app";
pub const POLICY_PATH: &str = ".github/hotfix-policy.yml";

/// The GitHub client as in production, except that a failed call is
/// retried after 5–10 ms (at most 40 ms) instead of 0.5–1 s (at most 8 s):
/// the attempts, the errors and their order are the same, so a staged
/// outage still runs every retry, in milliseconds. Without this, each
/// failing call waited out about 3.5 s of back-off in real time, and the
/// files that stage outages took close to a minute each.
pub fn fast_retries() -> hotfix_guard::github::ClientOptions {
    let defaults = hotfix_guard::github::ClientOptions::default();
    hotfix_guard::github::ClientOptions {
        http: hotfix_guard::github::HttpOptions {
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(40),
            ..defaults.http.clone()
        },
        ..defaults
    }
}

/// A small policy in the shape of the README's example, with people the tests use:
/// alice leads, the acme/on-call team manages on-call, carol is product.
pub const POLICY: &str = r#"version: 1
hotfix:
  labels: [hotfix]
  branch_prefixes: [hotfix/]
workflow: git-flow
branches: { production: main, develop: develop }
roles:
  engineering-lead: [alice, acme/eng-leads]
  on-call-manager: [acme/on-call]
  product-manager: [carol]
severities:
  P0:
    labels: [P0]
    approvals: { roles: [engineering-lead, on-call-manager] }
    deadline: 2h
    follow_up: { title: Post-incident review, within: 24h }
  P1:
    labels: [P1]
    approvals: { roles: [engineering-lead, product-manager] }
    deadline: 24h
  P2:
    labels: [P2]
    approvals: { count: 1 }
approvals: { dismiss_stale: true, allow_author: false, command: "/hotfix approve" }
checks:
  version_bump: { files: [VERSION], increment: patch }
  merge_back: true
escalation:
  mention: [acme/incident-commanders]
"#;

pub const BASE_SHA: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
pub const HEAD_SHA: &str = "h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1";

pub struct Harness {
    pub gh: Arc<FakeGitHub>,
    pub app: App,
    /// The engine's clock: deadlines move only when a test says so.
    pub clock: Arc<ManualClock>,
    /// The store this instance uses.
    pub database_url: String,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::on(FakeGitHub::start().await).await
    }

    pub async fn on(gh: FakeGitHub) -> Harness {
        Harness::sharing(Arc::new(gh)).await
    }

    async fn sharing(gh: Arc<FakeGitHub>) -> Harness {
        Harness::with_store(gh, super::store::scratch_url().await).await
    }

    /// An app on `database_url` (another instance on the same store, or a
    /// restart of one).
    pub async fn with_store(gh: Arc<FakeGitHub>, database_url: String) -> Harness {
        let notify = Arc::new(hotfix_guard::notify::NotifyConfig::default());
        Harness::with_notify(gh, database_url, notify).await
    }

    /// An app on `database_url` with the given notice settings.
    pub async fn with_notify(
        gh: Arc<FakeGitHub>,
        database_url: String,
        notify: Arc<hotfix_guard::notify::NotifyConfig>,
    ) -> Harness {
        let config = ServeConfig {
            app_id: APP_ID,
            private_key: TestKey::private_pem().into(),
            secrets: WebhookSecrets::parse(SECRET).expect("secret"),
            api_url: gh.url(),
            port: 0,
            workers: 2,
            queue_capacity: 64,
            shutdown_grace: Duration::from_secs(5),
            sweep_interval: None,
            debounce: Duration::ZERO,
            database_url: database_url.clone(),
            job_lease: Duration::from_secs(30),
            retry_backoff: Duration::from_millis(10),
            limits: Default::default(),
            github: fast_retries(),
        };
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let app = App::start_with_notify(&config, clock.clone(), notify)
            .await
            .expect("app starts");
        Harness {
            gh,
            app,
            clock,
            database_url,
        }
    }

    /// A second app instance on the same fake GitHub and a store of its
    /// own (a replacement machine whose store was lost).
    pub async fn on_shared(other: &Harness) -> Harness {
        Harness::sharing(other.gh.clone()).await
    }

    /// A second app instance on the same fake GitHub and the same store (a
    /// restart, or another replica).
    pub async fn on_shared_store(other: &Harness) -> Harness {
        Harness::with_store(other.gh.clone(), other.database_url.clone()).await
    }

    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use hotfix_guard::clock::Clock;
        self.clock.now()
    }

    /// Seeds the repository with `policy` on main and a pull request
    /// bumping VERSION 1.2.3 → 1.2.4.
    pub fn seed(&self, policy: &str, pull: &PullSeed) {
        self.gh.add_repo(REPO);
        self.gh.set_branch(REPO, "main", BASE_SHA);
        self.gh
            .set_branch(REPO, "develop", "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0");
        self.gh.set_file(REPO, "main", POLICY_PATH, policy);
        self.gh.set_file(REPO, &pull.base_sha, "VERSION", "1.2.3\n");
        self.gh.set_file(REPO, &pull.head_sha, "VERSION", "1.2.4\n");
        self.gh.add_pull(REPO, pull.clone());
        // The head commit was pushed just before the pull request opened:
        // its commit date, and GitHub's record of the push (server time).
        self.gh.set_commit_date(
            REPO,
            &pull.head_sha,
            pull.created_at - chrono::Duration::minutes(1),
        );
        self.gh.add_push_activity(
            REPO,
            &pull.head_ref,
            &pull.head_sha,
            "branch_creation",
            &pull.author,
            pull.created_at - chrono::Duration::minutes(1),
        );
        self.gh
            .set_pull_files(REPO, pull.number, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
        for (login, role) in [
            ("alice", "write"),
            ("bob", "write"),
            ("carol", "write"),
            ("oncall-olga", "write"),
            ("dana", "write"),
        ] {
            self.gh.set_permission(REPO, login, role);
        }
        self.gh.add_team_member("acme", "on-call", "oncall-olga");
    }

    /// A P0 hotfix by dana into main, labelled hotfix + P0 by dana.
    /// `count` open P0 hotfixes numbered from 1, each with its own head
    /// commit and a bumped VERSION, their severity set by dana (the bursts
    /// of the durable-store tests).
    pub fn seed_hotfixes(&self, count: u64) -> Vec<PullSeed> {
        let template = self.p0();
        (1..=count)
            .map(|n| {
                let pull = PullSeed {
                    number: n,
                    head_sha: format!("{n:0>40}"),
                    head_ref: format!("hotfix/fix-{n}"),
                    ..template.clone()
                };
                if n == 1 {
                    self.seed(POLICY, &pull);
                } else {
                    self.gh.add_pull(REPO, pull.clone());
                    self.gh.set_file(REPO, &pull.head_sha, "VERSION", "1.2.4\n");
                    self.gh.set_commit_date(
                        REPO,
                        &pull.head_sha,
                        pull.created_at - chrono::Duration::minutes(1),
                    );
                    self.gh
                        .set_pull_files(REPO, n, [("src/fix.rs", 3, 1), ("VERSION", 1, 1)]);
                }
                self.label_events_by(&pull, "dana");
                pull
            })
            .collect()
    }

    pub fn p0(&self) -> PullSeed {
        PullSeed {
            number: 7,
            title: "fix: stop the login loop".into(),
            author: "dana".into(),
            head_ref: "hotfix/login-loop".into(),
            head_sha: HEAD_SHA.into(),
            base_ref: "main".into(),
            base_sha: BASE_SHA.into(),
            labels: vec!["hotfix".into(), "P0".into()],
            ..PullSeed::default()
        }
    }

    pub fn label_events_by(&self, pull: &PullSeed, actor: &str) {
        for label in &pull.labels {
            self.gh.add_label_event(
                REPO,
                pull.number,
                label,
                actor,
                true,
                pull.created_at + chrono::Duration::seconds(5),
            );
        }
    }

    /// Signs and sends a delivery with a fresh id; answers the status.
    pub async fn deliver(&self, event: &str, payload: &Value) -> StatusCode {
        // One count for the whole test binary: a second instance on the
        // same store (`on_shared_store`) must not send a delivery id the
        // first already sent, or the store takes it for GitHub's redelivery.
        static DELIVERIES: AtomicU64 = AtomicU64::new(0);
        let n = DELIVERIES.fetch_add(1, Ordering::SeqCst);
        self.deliver_as(event, &format!("00000000-0000-4000-8000-{n:012x}"), payload)
            .await
    }

    pub async fn deliver_as(&self, event: &str, id: &str, payload: &Value) -> StatusCode {
        let body = serde_json::to_vec(payload).expect("json");
        let req = Request::post("/webhook")
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", super::webhook::delivery_guid(id))
            .header("x-hub-signature-256", sign(SECRET, &body))
            .body(Body::from(body))
            .expect("request");
        let res = self
            .app
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible");
        res.status()
    }

    /// Delivers `pull_request.<action>` for the pull request as the fake
    /// holds it now, and waits for the evaluation.
    pub async fn pull_request(&self, action: &str, number: u64) -> StatusCode {
        let seed = self.gh.pull(REPO, number).expect("seeded pull request");
        let mut payload = pull_request_event(action, &PrSpec::from_seed(REPO, &seed, 1));
        // The payload's totals agree with the files the fake lists.
        if let Some((files, additions, deletions)) = self.gh.pull_totals(REPO, number) {
            payload["pull_request"]["changed_files"] = files.into();
            payload["pull_request"]["additions"] = additions.into();
            payload["pull_request"]["deletions"] = deletions.into();
        }
        // ... and so do its links, as GitHub's payloads and answers agree
        // (text rendered from either must not differ).
        payload["pull_request"]["html_url"] =
            format!("{}/{REPO}/pull/{number}", self.gh.url()).into();
        let status = self.deliver("pull_request", &payload).await;
        self.settle().await;
        status
    }

    pub async fn settle(&self) {
        tokio::time::timeout(Duration::from_secs(20), self.app.idle())
            .await
            .expect("evaluations finish");
    }

    /// The one `hotfix-policy` run on `sha`.
    pub fn check(&self, sha: &str) -> super::fake_github::CheckRunRec {
        let runs: Vec<_> = self
            .gh
            .check_runs(REPO, sha)
            .into_iter()
            .filter(|r| r.name == "hotfix-policy")
            .collect();
        assert_eq!(
            runs.len(),
            1,
            "exactly one hotfix-policy run on {sha}: {runs:#?}"
        );
        runs.into_iter().next().expect("one run")
    }

    /// The app's comments on the pull request (the sticky one, and any
    /// escalations).
    pub fn bot_comments(&self, number: u64) -> Vec<super::fake_github::CommentRec> {
        self.gh
            .comments(REPO, number)
            .into_iter()
            .filter(|c| c.user == super::fake_github::BOT_LOGIN)
            .collect()
    }
}
