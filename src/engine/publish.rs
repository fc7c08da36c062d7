//! Writes: one `hotfix-policy` check run per head commit and one sticky
//! comment per pull request, both upserts. Remembers what it last wrote so
//! that an unchanged verdict costs no write at all.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::events::{RECHECK_ACTION, RepoName};
use crate::github::{
    Annotation as GitHubAnnotation, AnnotationLevel, CheckAction, CheckConclusion,
    CheckOutput as GitHubCheckOutput, CheckRunUpdate, CheckStatus, CommentInfo, GitHubError,
    NewCheckRun, RepoClient,
};
use crate::report::{COMMENT_MARKER, CheckOutput};

pub mod serial;
mod unevaluated;

/// What a check run shows: its `external_id` and `conclusion` (`None`
/// while in progress), as GitHub lists them or the store recorded them.
type Shows = (Option<String>, Option<String>);

/// Bounds for the remembered ids, per map; past them the least recently
/// used entry goes (a miss costs one lookup, never a duplicate).
const MAX_REMEMBERED: u64 = 8_192;

/// Ids remembered per key, with the hash of what they show: moka's bounded
/// cache, least recently used evicted first.
type Remembered<K> = moka::sync::Cache<K, (u64, u64)>;

fn remembered<K: Hash + Eq + Send + Sync + 'static>() -> Remembered<K> {
    moka::sync::Cache::builder()
        .max_capacity(MAX_REMEMBERED)
        .eviction_policy(moka::policy::EvictionPolicy::lru())
        .build()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// What was written, for tests and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    Created,
    Updated,
    Unchanged,
}

pub struct PublishCache {
    /// Where check-run ids outlive the process and are shared by
    /// instances (`published` table): a restart needs no lookup.
    store: Option<crate::store::Store>,
    /// (repository, head sha) → (check run id, hash of what it shows).
    checks: Remembered<(RepoName, String)>,
    /// (repository, pull request) → (comment id, hash of its body).
    comments: Remembered<(RepoName, u64)>,
    /// One writer at a time per check run, in this instance and across
    /// instances (see `serial`).
    writers: serial::RunWriters,
}

fn fingerprint(value: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl Default for PublishCache {
    fn default() -> Self {
        PublishCache {
            store: None,
            checks: remembered(),
            comments: remembered(),
            writers: serial::RunWriters::default(),
        }
    }
}

impl PublishCache {
    /// A cache backed by `store` for check-run ids.
    pub fn with_store(store: crate::store::Store) -> PublishCache {
        PublishCache {
            store: Some(store),
            ..PublishCache::default()
        }
    }

    /// The check run the store remembers, if any; a store error costs a
    /// lookup on GitHub, nothing else.
    async fn stored_check(&self, key: &(RepoName, String)) -> Option<crate::store::PublishedCheck> {
        let store = self.store.as_ref()?;
        match store
            .published_check(&key.0, &format!("check:{}", key.1))
            .await
        {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a check run id from the store");
                None
            }
        }
    }

    /// Claims the run `name` on `head_sha` in the store (before any write
    /// that may create it: see `store::claims`) and finds it on GitHub
    /// (`GET /repos/{o}/{r}/commits/{sha}/check-runs?check_name=`), unless
    /// the claim proves no run of this app with this name is on the commit:
    /// a run nothing in the store or in memory records (`recorded` false)
    /// whose commit GitHub delivered as a fresh check suite, and whose
    /// claim is the first. Errors: GitHub's, or the store's when the claim
    /// cannot be recorded (nothing is then created: a later writer would
    /// take the missing claim for proof).
    async fn find_run(
        &self,
        client: &RepoClient,
        name: &str,
        head_sha: &str,
        recorded: bool,
    ) -> Result<Option<crate::github::CheckRunInfo>, GitHubError> {
        if let Some(store) = &self.store {
            let absent = store
                .claim_check_run(&client.repo_name(), head_sha, name, chrono::Utc::now())
                .await
                .map_err(|e| store_refused(&e))?;
            if absent && !recorded {
                return Ok(None);
            }
        }
        client.find_check_run(head_sha, name).await
    }

    /// The follow-up issue the store recorded for merged hotfix `number`
    /// of `repo`; `None` when it has none or cannot be read (the markers on
    /// GitHub are the fallback).
    pub async fn stored_follow_up(&self, repo: &RepoName, number: u64) -> Option<u64> {
        match self.store.as_ref()?.follow_up(repo, number).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a follow-up issue from the store");
                None
            }
        }
    }

    /// Records `issue` as the follow-up of merged hotfix `number`, so that
    /// a retry, a restart or another instance finds it even while GitHub's
    /// issue list lags behind its creation. A failure is logged: the
    /// markers on GitHub remain the fallback.
    pub async fn remember_follow_up(&self, repo: &RepoName, number: u64, issue: u64) {
        if let Some(store) = &self.store
            && let Err(e) = store
                .remember_follow_up(repo, number, issue, chrono::Utc::now())
                .await
        {
            tracing::warn!(error = %e, "cannot record a follow-up issue in the store");
        }
    }

    /// Upserts the check run `name` on `head_sha`. An `output.conclusion` of
    /// `in_progress` leaves the run in progress (the merge-back check waits
    /// for `develop`); anything else completes it.
    pub async fn check_run(
        &self,
        client: &RepoClient,
        name: &str,
        head_sha: &str,
        output: &CheckOutput,
        annotations: Vec<Annotation>,
    ) -> Result<Published, GitHubError> {
        self.write_check_run(client, name, head_sha, output, annotations, false)
            .await
    }

    /// Like [`PublishCache::check_run`], but with `rerun` an unchanged
    /// verdict is written again (a fresh `completed_at`): someone asked
    /// for a re-run and GitHub reset the suite to queued, so the run must
    /// visibly complete again.
    pub async fn write_check_run(
        &self,
        client: &RepoClient,
        name: &str,
        head_sha: &str,
        output: &CheckOutput,
        annotations: Vec<Annotation>,
        rerun: bool,
    ) -> Result<Published, GitHubError> {
        self.write_owned_check_run(
            client,
            name,
            head_sha,
            output,
            annotations,
            rerun,
            RunOwner::Unclaimed,
        )
        .await
    }

    /// [`PublishCache::write_check_run`] for the pull request `owner`
    /// names. A check run belongs to a commit, and several pull requests
    /// (and the direct-push audit) can share one head commit: a
    /// not-a-hotfix verdict never replaces a run that shows another pull
    /// request's hotfix verdict or the audit's (read from the run's
    /// `external_id` on GitHub), nor, for a run that names no owner, any
    /// conclusion but `neutral`. Otherwise an author could open a second,
    /// unlabelled pull request on the hotfix's head and turn its required
    /// check `neutral`.
    #[allow(clippy::too_many_arguments)]
    pub async fn write_owned_check_run(
        &self,
        client: &RepoClient,
        name: &str,
        head_sha: &str,
        output: &CheckOutput,
        annotations: Vec<Annotation>,
        rerun: bool,
        owner: RunOwner,
    ) -> Result<Published, GitHubError> {
        self.serialised(
            client,
            name,
            head_sha,
            self.write_unserialised(client, name, head_sha, output, annotations, rerun, owner),
        )
        .await
    }

    /// Runs `write`, a write of the check run `name` on `head_sha` (from
    /// the read of what the run shows to the recording of the write), as
    /// the only writer of that run in every instance: see `serial`. Errors:
    /// `write`'s, or a transport error when the store's lease cannot be
    /// taken within `serial::LEASE_WAIT` (then `write` is not run).
    pub async fn serialised<T>(
        &self,
        client: &RepoClient,
        name: &str,
        head_sha: &str,
        write: impl std::future::Future<Output = Result<T, GitHubError>>,
    ) -> Result<T, GitHubError> {
        self.writers
            .serialised(
                self.store.as_ref(),
                &client.repo_name(),
                head_sha,
                name,
                write,
            )
            .await
    }

    /// [`PublishCache::write_owned_check_run`] without its serialisation.
    #[allow(clippy::too_many_arguments)]
    async fn write_unserialised(
        &self,
        client: &RepoClient,
        name: &str,
        head_sha: &str,
        output: &CheckOutput,
        annotations: Vec<Annotation>,
        rerun: bool,
        owner: RunOwner,
    ) -> Result<Published, GitHubError> {
        let key = (client.repo_name(), format!("{name}@{head_sha}"));
        let shown = fingerprint(&(
            output.conclusion,
            &output.title,
            &output.summary,
            &output.text,
            annotations
                .iter()
                .map(|a| (&a.path, a.line, &a.message))
                .collect::<Vec<_>>(),
        ));
        let what = format!("check:{}", key.1);
        let stored = self.stored_check(&key).await;
        // What this run last showed: the store's record when there is a
        // store, never this instance's memory. Another replica may have
        // written the run since this one did (a twin's `success` while the
        // P0 was pushed off the commit); trusting memory would skip the
        // write that puts the P0's failure back. No record (or a store that
        // cannot be read) means no skip: at worst one write too many.
        let remembered = match &self.store {
            Some(_) => stored
                .as_ref()
                .map(|record| (record.id, record.fingerprint)),
            None => self.checks.get(&key),
        };
        // What the run shows now, when the store knows it: only this app
        // writes its runs, and every write is recorded (see
        // `store::published`).
        let shown_now = stored.as_ref().and_then(|record| record.shows.clone());
        // Every hotfix verdict on the commit is kept, not only the run's
        // last writer's: see the `success` arm below. A pull request whose
        // evaluation failed may be a hotfix never judged (a P0): its
        // placeholder is kept as unmet too, whatever the run shows (a twin
        // could otherwise overwrite the placeholder with its own verdict
        // first, then pass); its own next verdict replaces the record, or
        // removes it when it is not a hotfix.
        if let Some(store) = &self.store {
            let recorded = match owner {
                RunOwner::Hotfix(n) => {
                    store
                        .record_commit_verdict(
                            &key.0,
                            head_sha,
                            n,
                            output.conclusion,
                            chrono::Utc::now(),
                        )
                        .await
                }
                RunOwner::Unevaluated { number, .. } => {
                    store
                        .record_commit_verdict(
                            &key.0,
                            head_sha,
                            number,
                            crate::store::UNEVALUATED,
                            chrono::Utc::now(),
                        )
                        .await
                }
                RunOwner::NotHotfix(n) => store.forget_commit_verdict(&key.0, head_sha, n).await,
                RunOwner::Unclaimed | RunOwner::MergeBack(_) => Ok(()),
            };
            recorded.map_err(|e| store_refused(&e))?;
        }
        // For a placeholder: the owner it names, and what the run showed
        // as GitHub or the store said (see the `Unevaluated` arm).
        let mut placeholder_id = None;
        let mut found_shows = None;
        let existing = match (remembered, &owner) {
            (Some((_, was)), _) if was == shown && !rerun => return Ok(Published::Unchanged),
            // Whose verdict the run shows decides whether this one may
            // replace it: from the store's record when it has one, else
            // from GitHub.
            (_, RunOwner::NotHotfix(_)) => match (&stored, &shown_now) {
                (Some(record), Some((external_id, conclusion))) => {
                    if !owner.may_replace_shown(external_id.as_deref(), conclusion.as_deref()) {
                        tracing::info!(
                            run = record.id,
                            shown = external_id.as_deref().unwrap_or("-"),
                            "the commit's check run shows another verdict that outranks this one; left as it is"
                        );
                        return Ok(Published::Unchanged);
                    }
                    Some(record.id)
                }
                _ => match self
                    .find_run(
                        client,
                        name,
                        head_sha,
                        remembered.is_some() || stored.is_some(),
                    )
                    .await?
                {
                    Some(run) if !owner.may_replace(&run) => {
                        tracing::info!(
                            run = run.id,
                            shown = run.external_id.as_deref().unwrap_or("-"),
                            "the commit's check run shows another verdict that outranks this one; left as it is"
                        );
                        return Ok(Published::Unchanged);
                    }
                    found => found.map(|run| run.id),
                },
            },
            // A commit shared by two hotfix pull requests passes only when
            // both do: a `success` never replaces another open pull
            // request's hotfix verdict that is not `success` on this head
            // (the author could otherwise open a lower-severity twin on
            // the P0's commit and let its approval pass the P0).
            (_, RunOwner::Hotfix(n)) if output.conclusion == "success" => {
                let (id, shows) = self
                    .shown_run(client, name, head_sha, stored.as_ref(), shown_now.as_ref())
                    .await?;
                // Every other hotfix pull request with an unmet verdict on
                // this commit holds the success back while it is still open
                // on it: those the store recorded (the run names only its
                // last writer, so a twin could otherwise launder the P0's
                // failure by overwriting it with its own first, or through a
                // closed decoy), and the one the run names (all there is
                // when the store was lost). Each is read once.
                let mut others = match &self.store {
                    Some(store) => store
                        .unmet_commit_verdicts(&key.0, head_sha, *n)
                        .await
                        .map_err(|e| store_refused(&e))?,
                    None => Vec::new(),
                };
                if let Some((Some(external_id), conclusion)) = &shows
                    && let Some(other) =
                        RunOwner::other_unmet(external_id, conclusion.as_deref(), *n)
                    && !others.contains(&other)
                {
                    others.push(other);
                }
                for other in others {
                    if still_on_head(client, other, head_sha).await? {
                        tracing::info!(
                            pr = other,
                            "another open hotfix pull request on this commit has an unmet verdict; a success does not replace the run"
                        );
                        return Ok(Published::Unchanged);
                    }
                }
                id
            }
            // A placeholder, not a verdict: see `unevaluated`.
            (
                _,
                RunOwner::Unevaluated {
                    number,
                    keep_failure,
                },
            ) => {
                let (id, shows) = self
                    .shown_run(client, name, head_sha, stored.as_ref(), shown_now.as_ref())
                    .await?;
                match unevaluated::plan(*number, *keep_failure, shows.as_ref()) {
                    unevaluated::Plan::Leave => return Ok(Published::Unchanged),
                    unevaluated::Plan::Write { external_id } => {
                        placeholder_id = external_id;
                        found_shows = shows;
                    }
                }
                id
            }
            (Some((id, _)), _) => Some(id),
            (None, _) => self
                .find_run(client, name, head_sha, false)
                .await?
                .map(|run| run.id),
        };
        let (status, conclusion, completed_at) = match output.conclusion {
            "in_progress" => (CheckStatus::InProgress, None, None),
            "success" => (
                CheckStatus::Completed,
                Some(CheckConclusion::Success),
                Some(chrono::Utc::now()),
            ),
            "neutral" => (
                CheckStatus::Completed,
                Some(CheckConclusion::Neutral),
                Some(chrono::Utc::now()),
            ),
            _ => (
                CheckStatus::Completed,
                Some(CheckConclusion::Failure),
                Some(chrono::Utc::now()),
            ),
        };
        let body = GitHubCheckOutput {
            title: output.title.clone(),
            summary: output.summary.clone(),
            text: output.text.clone(),
            annotations: annotations
                .into_iter()
                .map(|a| GitHubAnnotation {
                    path: a.path,
                    start_line: u32::try_from(a.line).unwrap_or(u32::MAX),
                    end_line: u32::try_from(a.line).unwrap_or(u32::MAX),
                    start_column: None,
                    end_column: None,
                    annotation_level: AnnotationLevel::Failure,
                    message: a.message,
                    title: Some("Invalid hotfix policy".to_string()),
                    raw_details: None,
                })
                .collect(),
        };
        let actions = vec![CheckAction {
            label: "Re-check".to_string(),
            description: "Evaluate the hotfix policy again".to_string(),
            identifier: RECHECK_ACTION.to_string(),
        }];
        // The record says what the run shows until the write below is
        // recorded; a write whose outcome is not recorded must leave it
        // unknown (GitHub is asked next time), never outdated.
        if let Some(store) = &self.store
            && stored.as_ref().is_some_and(|record| record.shows.is_some())
            && let Err(e) = store.forget_shown(&key.0, &what).await
        {
            return Err(store_refused(&e));
        }
        let external_id = placeholder_id.or_else(|| owner.external_id());
        // What the run will show: an update without an external id keeps
        // the run's own, which the store knows only if it knew it before
        // (or GitHub just said).
        let will_show = match (&external_id, existing) {
            (Some(id), _) => Some(Some(id.clone())),
            (None, None) => Some(None),
            (None, Some(_)) => shown_now.or(found_shows).map(|(id, _)| id),
        };
        let conclusion_text = conclusion.map(|c| match c {
            CheckConclusion::Success => "success",
            CheckConclusion::Neutral => "neutral",
            _ => "failure",
        });
        let (id, published) = match existing {
            Some(id) => {
                let update = CheckRunUpdate {
                    status: Some(status),
                    conclusion,
                    completed_at,
                    external_id: external_id.clone(),
                    output: Some(body.clone()),
                    actions: Some(actions.clone()),
                    ..CheckRunUpdate::default()
                };
                match client.update_check_run(id, &update).await {
                    Ok(_) => (id, Published::Updated),
                    // The recorded id is not a run on this GitHub (a store
                    // restored elsewhere, a run gone): find the run by name,
                    // as without a record, and write that one.
                    Err(e) if e.is_not_found() => {
                        tracing::warn!(run = id, "the recorded check run is gone; looking it up");
                        if let Some(store) = &self.store
                            && let Err(e) = store.forget_check(&key.0, &what).await
                        {
                            tracing::warn!(error = %e, "cannot forget a check run id in the store");
                        }
                        // Claimed before the run may be created below.
                        match self.find_run(client, name, head_sha, true).await? {
                            Some(run) if run.id != id => {
                                if !owner.may_replace(&run) {
                                    return Ok(Published::Unchanged);
                                }
                                client.update_check_run(run.id, &update).await?;
                                (run.id, Published::Updated)
                            }
                            _ => {
                                let run = NewCheckRun {
                                    name: name.to_string(),
                                    head_sha: head_sha.to_string(),
                                    status: Some(status),
                                    conclusion,
                                    completed_at,
                                    details_url: None,
                                    external_id: external_id.clone(),
                                    output: Some(body),
                                    actions,
                                };
                                (client.create_check_run(&run).await?.id, Published::Created)
                            }
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            None => {
                let run = NewCheckRun {
                    name: name.to_string(),
                    head_sha: head_sha.to_string(),
                    status: Some(status),
                    conclusion,
                    completed_at,
                    details_url: None,
                    external_id: external_id.clone(),
                    output: Some(body),
                    actions,
                };
                (client.create_check_run(&run).await?.id, Published::Created)
            }
        };
        if let Some(store) = &self.store
            && let Err(e) = store
                .remember_check(
                    &key.0,
                    &what,
                    id,
                    shown,
                    will_show
                        .as_ref()
                        .map(|id| (id.as_deref(), conclusion_text)),
                )
                .await
        {
            tracing::warn!(error = %e, "cannot remember a check run id in the store");
        }
        self.checks.insert(key, (id, shown));
        Ok(published)
    }

    /// The run `name` on `head_sha` and what it shows (`external_id`,
    /// `conclusion`): from the store's record when it knows what the run
    /// shows, else from GitHub (`find_run`, which claims the run first).
    /// `(None, None)`: no such run. Errors: GitHub's, or the store's claim.
    async fn shown_run(
        &self,
        client: &RepoClient,
        name: &str,
        head_sha: &str,
        stored: Option<&crate::store::PublishedCheck>,
        shown_now: Option<&Shows>,
    ) -> Result<(Option<u64>, Option<Shows>), GitHubError> {
        if let (Some(record), Some(shows)) = (stored, shown_now) {
            return Ok((Some(record.id), Some(shows.clone())));
        }
        let recorded = stored.is_some()
            || (self.store.is_none()
                && self
                    .checks
                    .contains_key(&(client.repo_name(), format!("{name}@{head_sha}"))));
        Ok(
            match self.find_run(client, name, head_sha, recorded).await? {
                Some(run) => (Some(run.id), Some((run.external_id, run.conclusion))),
                None => (None, None),
            },
        )
    }

    /// Creates the sticky comment, or edits it when its text changed.
    pub async fn sticky_comment(
        &self,
        client: &RepoClient,
        number: u64,
        comments: &[CommentInfo],
        body: &str,
    ) -> Result<Published, GitHubError> {
        let key = (client.repo_name(), number);
        let hash = fingerprint(&body);
        // Ours is the marked comment GitHub says this app wrote; a person
        // (or another app) quoting the marker does not make their comment
        // ours, and is never edited.
        let existing = client
            .own_marked(comments, COMMENT_MARKER)
            .await?
            .into_iter()
            .min_by_key(|c| c.id);
        let published = match existing {
            Some(c) if c.body == body => Published::Unchanged,
            Some(c) => {
                client.update_comment(c.id, body).await?;
                Published::Updated
            }
            None => {
                let created = client.create_comment(number, body).await?;
                self.comments.insert(key, (created.id, hash));
                return Ok(Published::Created);
            }
        };
        if let Some(c) = existing {
            self.comments.insert(key, (c.id, hash));
        }
        Ok(published)
    }

    /// The pull request is no longer a hotfix: if this instance wrote a
    /// sticky comment on it, say so there rather than leave stale advice.
    pub async fn retire_sticky_comment(
        &self,
        client: &RepoClient,
        number: u64,
    ) -> Result<Published, GitHubError> {
        let key = (client.repo_name(), number);
        let Some((id, was)) = self.comments.get(&key) else {
            return Ok(Published::Unchanged);
        };
        let body = format!(
            "{COMMENT_MARKER}\nThis pull request is no longer a hotfix, so the hotfix procedure does not apply to it."
        );
        let hash = fingerprint(&body.as_str());
        if was == hash {
            return Ok(Published::Unchanged);
        }
        client.update_comment(id, &body).await?;
        self.comments.insert(key, (id, hash));
        Ok(Published::Updated)
    }
}

/// The store could not mark a check run's record before a write: the write
/// is not made (the evaluation is retried), so that no record outlives
/// what the run shows.
fn store_refused(e: &crate::store::StoreError) -> GitHubError {
    GitHubError::new(
        crate::github::ErrorKind::Transport(format!("the store cannot record the write: {e}")),
        "store: published",
    )
}

/// Whose verdict a check run shows, written as its `external_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOwner {
    /// The hotfix pull request with this number (or a pull request under a
    /// policy that cannot be read: a failure, kept like a hotfix's).
    Hotfix(u64),
    /// The pull request with this number, which is not a hotfix.
    NotHotfix(u64),
    /// No pull request (the direct-push audit).
    Unclaimed,
    /// The merge-back check of the hotfix pull request with this number:
    /// named so that a re-run of that run evaluates the hotfix (GitHub
    /// lists the merge-back pull request, whose head is the merge commit).
    MergeBack(u64),
    /// No verdict: the evaluation of the pull request with this number
    /// failed, and the run says so ("could not evaluate") until one
    /// completes. With `keep_failure`, a run already showing `failure` is
    /// left as it is (a retried failure adds no write). See `unevaluated`
    /// for whose name the run then carries.
    Unevaluated { number: u64, keep_failure: bool },
}

impl RunOwner {
    /// `hotfix-pr:N`, `pr:N` or `merge-back:N` (read back by
    /// `events::run_pull_number`); `None` leaves the run's id as it is.
    fn external_id(self) -> Option<String> {
        match self {
            RunOwner::Hotfix(n) => Some(format!("hotfix-pr:{n}")),
            RunOwner::NotHotfix(n) => Some(format!("pr:{n}")),
            RunOwner::Unclaimed => None,
            RunOwner::MergeBack(n) => Some(format!("merge-back:{n}")),
            RunOwner::Unevaluated { .. } => None,
        }
    }

    /// Whether this owner's verdict may replace what `run` shows: always,
    /// but for a not-a-hotfix verdict over another pull request's hotfix
    /// verdict or "could not evaluate" placeholder, over the direct-push
    /// audit's, or over an unowned run that is not `neutral`.
    fn may_replace(self, run: &crate::github::CheckRunInfo) -> bool {
        self.may_replace_shown(run.external_id.as_deref(), run.conclusion.as_deref())
    }

    /// The number of the pull request other than `own` whose unmet verdict
    /// a run showing `external_id` and `conclusion` carries: another
    /// hotfix's (`hotfix-pr:N`) not `success`, or another pull request's
    /// "could not evaluate" placeholder (`pr:N` not `neutral`, see
    /// [`RunOwner::placeholder_of`]).
    fn other_unmet(external_id: &str, conclusion: Option<&str>, own: u64) -> Option<u64> {
        let hotfix = external_id
            .strip_prefix("hotfix-pr:")
            .and_then(|n| n.parse().ok())
            .filter(|_| conclusion != Some("success"));
        hotfix
            .or_else(|| RunOwner::placeholder_of(external_id, conclusion))
            .filter(|n| *n != own)
    }

    /// The pull request whose "could not evaluate" placeholder a run
    /// showing `external_id` and `conclusion` is: named `pr:N` (see
    /// `unevaluated::plan`) and not `neutral`, the only conclusion a
    /// not-a-hotfix verdict has (`rules::verdict::not_a_hotfix`).
    fn placeholder_of(external_id: &str, conclusion: Option<&str>) -> Option<u64> {
        external_id
            .strip_prefix("pr:")
            .and_then(|n| n.parse().ok())
            .filter(|_| conclusion != Some("neutral"))
    }

    /// [`RunOwner::may_replace`] for a run showing `external_id` and
    /// `conclusion` (as GitHub lists them, or as the store recorded them).
    fn may_replace_shown(self, external_id: Option<&str>, conclusion: Option<&str>) -> bool {
        let RunOwner::NotHotfix(n) = self else {
            return true;
        };
        match external_id {
            Some(id) if id == format!("hotfix-pr:{n}") => true,
            // Another pull request's placeholder: it may be a hotfix never
            // judged (a P0 whose evaluation fails), and `neutral` would
            // pass a required check over it. Its own verdict replaces it.
            Some(id) if RunOwner::placeholder_of(id, conclusion).is_some_and(|m| m != n) => false,
            Some(id) if id.starts_with("pr:") => true,
            Some(_) => false,
            None => matches!(conclusion, None | Some("neutral")),
        }
    }
}

/// Whether pull request `number` is still open with `head_sha` as its head
/// (`GET /repos/{o}/{r}/pulls/{n}` → `state`, `head.sha`): its verdict on
/// the commit then still stands. A pull request GitHub no longer has (404)
/// does not; any other error is returned (the write is retried, never made
/// on a guess).
async fn still_on_head(
    client: &RepoClient,
    number: u64,
    head_sha: &str,
) -> Result<bool, GitHubError> {
    match client.get_pull(number).await {
        Ok(pull) => Ok(pull.state == "open" && pull.head.sha.eq_ignore_ascii_case(head_sha)),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}
