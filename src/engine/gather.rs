//! Facts about one pull request, read from GitHub: only what the rules that
//! apply need (a pull request that is not a hotfix costs the three reads of
//! [`first_reads`]). Reads that do not depend on each other go out together,
//! in a few steps: the pull request, its timeline and files; then the
//! version files, team memberships, permissions, evidence and push time;
//! then what those name (the release tag, the permissions of team members).
//! `github::in_flight` bounds the requests one installation has in flight.

use std::collections::BTreeMap;
use std::time::Duration;

use super::reads::GitHubReads;
use crate::github::{CommentInfo, FileInfo, GitHubError};
use crate::policy::{Member, Policy, Severity};
use crate::pull::Pull;
use crate::rules::{
    self, ChangedFile, Classification, Comment, FileAtRefs, Label, LabelEvent, Permission, PrState,
    PullRequestFacts, PushTimeSource, Review, ReviewState,
};

#[cfg(test)]
mod tests;

pub struct Gathered {
    pub facts: PullRequestFacts,
    /// Every issue comment (hotfixes only): the sticky comment is among them.
    pub comments: Vec<CommentInfo>,
    /// Changed files, always read: a pull request that edits the policy
    /// file gets its new version validated.
    pub changed_files: Vec<ChangedFile>,
    /// `false` when GitHub's list stopped short of the pull request's
    /// `changed_files` total (the 3,000-file cap): a file missing from
    /// `changed_files` may still be changed.
    pub files_complete: bool,
    /// The latest `closed` timeline event: who closed the pull request and
    /// when (`actor.login`, `created_at`); `None` when none is listed.
    pub closed_by: Option<(String, Option<chrono::DateTime<chrono::Utc>>)>,
    /// Lists that stopped at the page cap (see [`Designation::cut`]).
    pub cut: Vec<rules::verdict::CutList>,
}

/// People looked up one by one at most, per team and for write access;
/// past it one listing answers for all of them (`list_team_members`,
/// `list_writers`). Five calls cost about what one listing of a large team
/// does.
const PER_PERSON: usize = 5;

/// What the gather remembers between evaluations: release tags seen
/// missing, and files read at a commit.
#[derive(Default)]
pub struct Caches {
    pub tags: TagCache,
    pub files: super::commit_files::CommitFiles,
}

/// The facts the rules need about `pull`, from what [`designation`] read
/// and, for a hotfix with a severity, the reads its rules need (step 2:
/// version files, team memberships, permissions, evidence, push time,
/// retargets; step 3: the release tag and the writers). A pull request
/// that is not a hotfix costs no call here (one `GET /pulls/{n}` at most,
/// for totals a list answer lacked). An error in any read is the error of
/// the whole gather.
pub async fn facts<C: GitHubReads>(
    client: &C,
    caches: &Caches,
    policy: &Policy,
    classification: &Classification<'_>,
    pull: &Pull,
    head_last_received: Option<chrono::DateTime<chrono::Utc>>,
    designation: Designation,
) -> Result<Gathered, GitHubError> {
    let severity = classification.severity();
    let number = pull.number;
    let mut facts = base_facts(client, pull);
    facts.permissions = designation.permissions;
    let changed_files: Vec<ChangedFile> = designation
        .files
        .into_iter()
        .map(|f| ChangedFile {
            filename: f.filename,
            additions: f.additions,
            deletions: f.deletions,
        })
        .collect();
    let sizes_checked = {
        let c = &policy.checks;
        !c.require_tests.is_empty()
            || c.max_changed_files.is_some()
            || c.max_changed_lines.is_some()
    };
    if facts.totals.is_none()
        && (changed_files.len() as u64 >= rules::FILES_LIST_LIMIT
            || (sizes_checked && severity.is_some()))
    {
        // The delivery did not carry the totals (a review or comment, a
        // list answer): only the single pull request answer has them.
        facts.totals = client.get_pull(number).await?.totals();
    }
    let files_complete = rules::hygiene::list_is_complete(&changed_files, facts.totals);
    // The one timeline call (read before classifying) gives the comments
    // (the sticky one, approval commands), the reviews and who set or
    // removed which label.
    let crate::github::Timeline {
        comments,
        reviews,
        state_events,
        mut base_changes,
        ..
    } = designation.timeline;
    let mut cut = designation.cut;
    facts.label_events = designation.label_events;
    // A cut events list may hide a later close by someone else: who closed
    // it last is then unknown (escalation continues).
    let closed_by = state_events
        .iter()
        .rev()
        .find(|e| e.event == "closed")
        .filter(|_| !rules::verdict::events_cut(&cut))
        .map(|e| {
            (
                e.actor
                    .clone()
                    .unwrap_or_else(|| crate::pull::DELETED_USER.to_string()),
                e.created_at,
            )
        });
    let (comments, retargets) = match classification {
        Classification::NotHotfix => (Vec::new(), None),
        Classification::Hotfix { severity, .. } => {
            applied_by(&mut facts);
            let retargets = match severity {
                Some(severity) => {
                    // Retargets: GitHub documents `base_ref_changed` for
                    // the issue events list, not the timeline. That list
                    // is already read when the timeline was cut; otherwise
                    // it is read with the step-2 reads, for a hotfix with
                    // an approval that could count (an approving review or
                    // the approval command) when stale approvals are
                    // dismissed: conditional, so free against the rate
                    // limit when nothing changed.
                    let read_retargets = !rules::verdict::timeline_cut(&cut)
                        && policy.approvals.dismiss_stale
                        && (reviews.iter().any(|r| r.state == "APPROVED")
                            || comments.iter().any(|c| {
                                rules::approvals::is_command(&policy.approvals.command, &c.body)
                            }));
                    let hotfix = Hotfix {
                        policy,
                        severity,
                        needs: rules::needs(policy, severity),
                        pull,
                        head_last_received,
                    };
                    facts.changed_files = Some(changed_files.clone());
                    // A timeline that kept changing: its comments are not
                    // one consistent list, so none counts as an approval
                    // (unread ones could only add approvals).
                    facts.comments = if rules::verdict::timeline_unsettled(&cut) {
                        Vec::new()
                    } else {
                        commands(policy, &comments)
                    };
                    if hotfix.needs.reviews {
                        facts.reviews = reviews.into_iter().map(review).collect();
                    }
                    severity_reads(client, caches, &hotfix, read_retargets, &mut facts).await?
                }
                None => None,
            };
            (comments, retargets)
        }
    };
    // The retargets listed, and those of the events list read for them. A
    // cut events list leaves a retarget past its cut unread (unknown:
    // every approval is stale).
    if let Some(events) = retargets {
        base_changes.extend(events.base_changes);
        if let Some(items) = events.cut_after {
            cut.push(rules::verdict::CutList::Events { items });
        }
    }
    facts.base_changed = base_changed(&base_changes, rules::verdict::events_cut(&cut));
    Ok(Gathered {
        facts,
        comments,
        changed_files,
        files_complete,
        closed_by,
        cut,
    })
}

/// Who applied each label on the pull request, and when: the latest
/// `labeled` event of it (`facts.label_events`, any case).
fn applied_by(facts: &mut PullRequestFacts) {
    for label in &mut facts.labels {
        if let Some(e) = facts
            .label_events
            .iter()
            .rev()
            .find(|e| e.added && e.label.eq_ignore_ascii_case(&label.name))
        {
            label.applied_by = Some(e.actor.clone());
            label.applied_at = Some(e.at);
        }
    }
}

/// The approval commands among `comments` (a comment without GitHub's
/// `created_at` cannot be placed in time and is left out).
fn commands(policy: &Policy, comments: &[CommentInfo]) -> Vec<Comment> {
    comments
        .iter()
        .filter(|c| rules::is_command(&policy.approvals.command, &c.body))
        .filter_map(|c| {
            Some(Comment {
                id: c.id,
                user: c.user.clone(),
                not_a_person: c.user_type != "User",
                body: c.body.clone(),
                created_at: c.created_at?,
                updated_at: c.updated_at,
                html_url: c.html_url.clone(),
            })
        })
        .collect()
}

fn review(r: crate::github::ReviewInfo) -> Review {
    Review {
        id: r.id,
        not_a_person: r.user_type != "User",
        user: r.user,
        state: ReviewState::from_api(&r.state),
        commit_id: r.commit_id,
        submitted_at: r.submitted_at,
        html_url: r.html_url,
    }
}

/// A hotfix with a severity, as classified: what its reads start from.
struct Hotfix<'a> {
    policy: &'a Policy,
    severity: &'a Severity,
    /// What the rules of `severity` read (`rules::needs`).
    needs: rules::FactNeeds,
    pull: &'a Pull,
    /// When this app last received the head's push (see [`head_pushed_at`]).
    head_last_received: Option<chrono::DateTime<chrono::Utc>>,
}

/// The reads a hotfix's severity needs, into `facts` (which holds what the
/// first reads gave: labels, label events, reviews, approval commands).
/// Answers the issue events list when `read_retargets` (its retargets are
/// for the caller to fold in), `None` otherwise.
async fn severity_reads<C: GitHubReads>(
    client: &C,
    caches: &Caches,
    hotfix: &Hotfix<'_>,
    read_retargets: bool,
    facts: &mut PullRequestFacts,
) -> Result<Option<crate::github::Timeline>, GitHubError> {
    let Hotfix {
        policy,
        severity,
        ref needs,
        pull,
        head_last_received,
    } = *hotfix;
    // Everything below needs only the pull request and its timeline, so
    // the calls go out together (bounded per installation by
    // `github::in_flight`): the critical path is the longest chain of
    // calls that depend on each other, not their sum. Each read is the one
    // made one after another before; an error in any fails the whole
    // evaluation, as it did then.
    let deciders = rules::deciders(policy, facts);
    // Who needs a permission read whatever team memberships say: the
    // appliers of the severity's labels, and (when at most `PER_PERSON`
    // people could need one, so that the one-by-one path is certain)
    // deciders the policy names directly in a role. Team members found
    // below are read next.
    let by_person = rules::label_appliers(policy, severity, facts);
    let candidates = approver_candidates(facts, &deciders, &by_person);
    let direct: Vec<String> = if candidates.len() > PER_PERSON {
        Vec::new()
    } else {
        rules::role_holders(policy, severity, facts)
            .into_iter()
            .filter(|login| candidates.iter().any(|c| c.eq_ignore_ascii_case(login)))
            .collect()
    };
    let early: Vec<String> = by_person.iter().chain(&direct).cloned().collect();
    let pushed = async {
        if !facts.comments.is_empty() && policy.approvals.dismiss_stale {
            // An approval by comment holds for the head commit at that
            // moment: it needs the server's time of the push that made
            // the head.
            head_pushed_at(client, pull, head_last_received).await
        } else {
            Ok(None)
        }
    };
    let evidence = policy.evidence.for_severity(&severity.name);
    let retargets = async {
        if read_retargets {
            client.issue_events(pull.number).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (pushed, files, team_members, early_permissions, evidence, retargets) = tokio::try_join!(
        pushed,
        version_files(
            client,
            &caches.files,
            &needs.version_files,
            facts.base_sha.as_deref(),
            &facts.head_sha
        ),
        team_members(client, policy, severity, &needs.teams, &deciders),
        permissions(client, &facts.permissions, &early),
        super::evidence::gather(client, &evidence, &facts.head_sha),
        retargets,
    )?;
    facts.head_pushed_at = pushed.map(|(at, _)| at);
    facts.head_pushed_source = pushed.map(|(_, source)| source);
    facts.files = files;
    facts.team_members = team_members;
    facts.permissions.extend(early_permissions);
    facts.evidence = evidence;
    // Write access decides who set the severity (label appliers), who
    // counts toward `count`, and whether a role holder's approval counts
    // (a role member who lost write access does not): only people in a
    // role are looked up for that, so throw-away accounts cost nothing.
    let mut approvers = rules::role_holders(policy, severity, facts);
    if needs.permissions_for_count {
        for login in &deciders {
            rules::push_unique_login(&mut approvers, login);
        }
    }
    approvers.retain(|login| {
        rules::members_permission(&facts.permissions, login).is_none()
            && !by_person.iter().any(|l| l.eq_ignore_ascii_case(login))
    });
    // Past `PER_PERSON` people one listing of the writers answers for all
    // (the early reads above were then none but the label appliers').
    let late = if approvers.len() > PER_PERSON {
        Vec::new()
    } else {
        std::mem::take(&mut approvers)
    };
    // The release tag is named by the version files read above.
    let tag = async {
        match rules::expected_tag(policy, facts) {
            Some(tag) => Ok(Some((tag.clone(), caches.tags.sha(client, &tag).await?))),
            None => Ok(None),
        }
    };
    let writers = async {
        if approvers.is_empty() {
            Ok(None)
        } else {
            client.list_writers().await.map(Some)
        }
    };
    let (tag, writers, late_permissions) =
        tokio::try_join!(tag, writers, permissions(client, &facts.permissions, &late))?;
    if let Some(writers) = writers {
        for login in approvers {
            let permission = if writers.iter().any(|w| w.eq_ignore_ascii_case(&login)) {
                Permission::Write
            } else {
                Permission::None
            };
            facts.permissions.insert(login, permission);
        }
    }
    facts.permissions.extend(late_permissions);
    if let Some((tag, sha)) = tag {
        // A tag at the merge commit is this hotfix's own release (made after
        // the merge), not an earlier one.
        match sha {
            Some(sha) if Some(&sha) != pull.merge_commit_sha.as_ref() => {
                facts.existing_tags.push(tag);
            }
            _ => {}
        }
    }
    Ok(retargets)
}

/// Everyone whose permission the approvals could need: deciders whose
/// permission is not yet known and who did not apply a severity label
/// (those are read anyway). Role holders are among them, so when these are
/// at most `PER_PERSON` the permissions are read one by one, never by
/// listing the writers.
fn approver_candidates(
    facts: &PullRequestFacts,
    deciders: &[String],
    by_person: &[String],
) -> Vec<String> {
    deciders
        .iter()
        .filter(|login| {
            rules::members_permission(&facts.permissions, login).is_none()
                && !by_person.iter().any(|l| l.eq_ignore_ascii_case(login))
        })
        .cloned()
        .collect()
}

/// `paths` at the base and at the head commit (`GET …/contents/{path}?ref=`),
/// every read at once, each at most once per commit (`files`). No base
/// commit: the base side is `None`, unread.
async fn version_files<C: GitHubReads>(
    client: &C,
    files: &super::commit_files::CommitFiles,
    paths: &[String],
    base_sha: Option<&str>,
    head_sha: &str,
) -> Result<BTreeMap<String, FileAtRefs>, GitHubError> {
    let reads = paths.iter().map(|path| async move {
        let base = async {
            match base_sha {
                Some(sha) => files.get(client, path, sha).await,
                None => Ok(crate::github::FileRead::Missing),
            }
        };
        let (base, head) = tokio::try_join!(base, files.get(client, path, head_sha))?;
        Ok::<_, GitHubError>((path.clone(), super::commit_files::file_at_refs(base, head)))
    });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

/// Who among `deciders` belongs to each of `teams` (`"org/slug"` → logins),
/// every team at once. What it costs is bounded by the policy, never by how
/// many deciders there are (anyone can review or comment, throw-away
/// accounts included): past `PER_PERSON` people one listing of the team
/// (`GET /orgs/{org}/teams/{slug}/members`) replaces a membership read per
/// person (`GET /orgs/{org}/teams/{slug}/memberships/{user}`). Teams whose
/// membership could change nothing are recorded as looked up, with no one,
/// and cost no call.
async fn team_members<C: GitHubReads>(
    client: &C,
    policy: &Policy,
    severity: &Severity,
    teams: &[(String, String)],
    deciders: &[String],
) -> Result<BTreeMap<String, Vec<String>>, GitHubError> {
    // Named users already give each decider a role of their own: no team
    // can fill more.
    let teams_matter = !rules::direct_roles_cover(policy, severity, deciders);
    let reads = teams.iter().map(|(org, slug)| async move {
        let team = format!("{org}/{slug}");
        if !teams_matter {
            return Ok::<_, GitHubError>((team, Vec::new()));
        }
        // Someone named directly in every role this team belongs to gains
        // nothing from team membership: not looked up.
        let wanted: Vec<&String> = deciders
            .iter()
            .filter(|login| !direct_in_every_role_of(policy, severity, &team, login))
            .collect();
        if wanted.len() > PER_PERSON {
            let listed = client.list_team_members(org, slug).await?;
            let members = wanted
                .into_iter()
                .filter(|login| listed.iter().any(|m| m.eq_ignore_ascii_case(login)))
                .cloned()
                .collect();
            return Ok((team, members));
        }
        let memberships = wanted.into_iter().map(|login| async move {
            Ok::<_, GitHubError>(
                client
                    .team_membership(org, slug, login)
                    .await?
                    .then(|| login.clone()),
            )
        });
        let members = futures_util::future::try_join_all(memberships)
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok((team, members))
    });
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (team, logins) in futures_util::future::try_join_all(reads).await? {
        // The same team listed twice (under two spellings) keeps both.
        members.entry(team).or_default().extend(logins);
    }
    Ok(members)
}

/// `GET …/collaborators/{user}/permission` for each of `logins` not already
/// in `known`, at once; duplicates (any case) are read once.
pub(super) async fn permissions<C: GitHubReads>(
    client: &C,
    known: &BTreeMap<String, Permission>,
    logins: &[String],
) -> Result<BTreeMap<String, Permission>, GitHubError> {
    let mut wanted: Vec<&String> = Vec::new();
    for login in logins {
        if rules::members_permission(known, login).is_none()
            && !wanted.iter().any(|w| w.eq_ignore_ascii_case(login))
        {
            wanted.push(login);
        }
    }
    let reads = wanted.into_iter().map(|login| async move {
        let permission = client.collaborator_permission(login).await?;
        Ok::<_, GitHubError>((login.clone(), Permission::from_api(&permission)))
    });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect())
}

/// What decides whether the pull request is (still) a hotfix, read before
/// classifying it: the timeline (read once per evaluation, passed on to
/// [`facts`]), its label events, and the permissions of whoever removed a
/// hotfix or severity label (and of who had applied it).
pub struct Designation {
    pub timeline: crate::github::Timeline,
    /// `labeled`/`unlabeled` items, oldest first.
    pub label_events: Vec<LabelEvent>,
    /// `GET /collaborators/{u}/permission` → `permission`, by login.
    pub permissions: BTreeMap<String, Permission>,
    /// The labels on the pull request now, and those whose removal does not
    /// count (`rules::designation::held`): classify by these.
    pub labels: Vec<String>,
    /// Lists that stopped at the page cap: the timeline (its label and
    /// state events then come from `GET /issues/{n}/events`, its reviews
    /// from `GET /pulls/{n}/reviews`), and those lists too when they were
    /// cut. Empty for a pull request whose timeline fits.
    pub cut: Vec<rules::verdict::CutList>,
    /// `GET /pulls/{n}/files` (every page, up to GitHub's 3,000), read with
    /// the timeline and handed on to [`facts`].
    pub files: Vec<FileInfo>,
}

/// What every evaluation reads of a pull request, read together (three
/// requests in flight, one round trip when each fits one page):
/// `GET /pulls/{n}` (GitHub's current pull request, never a delivery's
/// snapshot), `GET /issues/{n}/timeline` and `GET /pulls/{n}/files`. An
/// error in any is the error of all.
pub async fn first_reads<C: GitHubReads>(
    client: &C,
    number: u64,
) -> Result<(Pull, FirstReads), GitHubError> {
    tokio::try_join!(client.get_pull(number), timeline_and_files(client, number))
}

/// The timeline and the changed files of [`first_reads`], read together,
/// for a pull request already read (`GET /issues/{n}/timeline`, `GET
/// /pulls/{n}/files`). An error in either is the error of both.
pub async fn timeline_and_files<C: GitHubReads>(
    client: &C,
    number: u64,
) -> Result<FirstReads, GitHubError> {
    // A timeline that kept changing while it was read (anyone can delete
    // their own comment at every read) is not an error here: `designation`
    // reads it like a cut one. Any other error (transport, 5xx) is.
    let timeline = async {
        match client.timeline(number).await {
            Ok(timeline) => Ok(Some(timeline)),
            Err(e) if e.is_list_kept_changing() => {
                tracing::info!(pr = number, error = %e, "the timeline kept changing; reading it like a cut one");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    };
    let (timeline, files) = tokio::try_join!(timeline, client.list_pull_files(number))?;
    Ok(FirstReads { timeline, files })
}

/// The timeline and the changed files of [`first_reads`], for
/// [`designation`].
pub struct FirstReads {
    /// `None`: the timeline kept changing while it was read
    /// (`GitHubError::is_list_kept_changing`).
    pub timeline: Option<crate::github::Timeline>,
    pub files: Vec<FileInfo>,
}

/// Reads the timeline and the permissions a designation label's removal
/// depends on. Costs the timeline (every page, up to the cap) and one
/// permission call per remover or applier of a removed designation label,
/// none when nothing was removed; a timeline cut at the cap (more than
/// 10,000 items, which anyone who can comment can cause) costs the issue
/// events and the reviews lists too.
///
/// `policies`: whose hotfix and severity labels are designation labels
/// (the judging policy, and for a merged pull request judged by the policy
/// at its `base.sha` the policy in force too).
pub async fn designation<C: GitHubReads>(
    client: &C,
    policies: &[&Policy],
    pull: &Pull,
    first: FirstReads,
) -> Result<Designation, GitHubError> {
    let FirstReads { timeline, files } = first;
    let mut cut = Vec::new();
    let unsettled = timeline.is_none();
    let mut timeline = timeline.unwrap_or_default();
    if unsettled {
        cut.push(rules::verdict::CutList::TimelineUnsettled);
    }
    if let Some(items) = timeline.cut_after {
        cut.push(rules::verdict::CutList::Timeline { items });
    }
    if rules::verdict::timeline_cut(&cut) {
        // Comments posted in bulk push the label events past the cut; the
        // events list has no comments, so who set the severity (and so its
        // deadline) is still known. Reviews too: a review can block
        // (changes requested) and approves without a comment, so approvals
        // by review still work. Both lists are read together.
        // A timeline that kept changing has no comments in hand: the
        // comments list, read once (unchecked: it is torn by the same
        // deletions), gives the app's own sticky comment and markers only,
        // never approvals (`facts`). Those lists that keep changing too
        // fail the read, as before.
        let comments = async {
            if unsettled {
                client
                    .list_issue_comments_unchecked(pull.number)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let (events, (reviews, reviews_cut), comments) = tokio::try_join!(
            client.issue_events(pull.number),
            client.list_reviews(pull.number),
            comments,
        )?;
        if let Some(comments) = comments {
            timeline.comments = comments;
        }
        timeline.label_events = events.label_events;
        timeline.state_events = events.state_events;
        timeline.base_changes = events.base_changes;
        if let Some(items) = events.cut_after {
            cut.push(rules::verdict::CutList::Events { items });
        }
        timeline.reviews = reviews;
        if reviews_cut {
            cut.push(rules::verdict::CutList::Reviews {
                items: timeline.reviews.len(),
            });
        }
    }
    let mut label_events = label_events(&timeline, pull.created_at.unwrap_or_default());
    let current = pull.label_names();
    if rules::verdict::events_cut(&cut) {
        // Removals past the cut are not listed: a designation label whose
        // last listed event applied it was removed by someone unseen, and
        // that removal cannot count.
        let cut_at = label_events.last().map(|e| e.at).unwrap_or_default();
        let unseen = rules::designation::unseen_removals(policies, &current, &label_events, cut_at);
        label_events.extend(unseen);
    }
    let to_check: Vec<String> =
        rules::designation::logins_to_check(policies, &current, &label_events)
            .into_iter()
            .filter(|login| login != rules::designation::UNSEEN_REMOVER)
            .collect();
    let permissions = permissions(client, &BTreeMap::new(), &to_check).await?;
    let labels = rules::verdict::effective_labels(policies, &current, &label_events, &permissions);
    Ok(Designation {
        timeline,
        label_events,
        permissions,
        labels,
        cut,
        files,
    })
}

/// The timeline's label events, oldest first. An event without a time
/// keeps its place in the list (the order decides who applied a label
/// last) and takes the time of the event before it: never later than it
/// happened, so a clock it starts runs early rather than late.
fn label_events(
    timeline: &crate::github::Timeline,
    created_at: chrono::DateTime<chrono::Utc>,
) -> Vec<LabelEvent> {
    let mut last_at = created_at;
    timeline
        .label_events
        .iter()
        .filter_map(|e| {
            let added = match e.event.as_str() {
                "labeled" => true,
                "unlabeled" => false,
                _ => return None,
            };
            let at = e.created_at.unwrap_or(last_at);
            last_at = at;
            Some(LabelEvent {
                label: e.label.clone()?,
                added,
                // A deleted account: GitHub shows it as "ghost", who has
                // no permission on anything.
                actor: e
                    .actor
                    .clone()
                    .unwrap_or_else(|| crate::pull::DELETED_USER.to_string()),
                at,
            })
        })
        .collect()
}

/// When GitHub received the push that made the pull request's head, by
/// server clocks only (never the commit's dates, which the author writes).
///
/// Sources, in order:
/// 1. `first_delivery`: from the durable store (`Store::head_last_received`),
///    the time by this app's clock at which it last received a delivery
///    (`opened`, `synchronize`, `reopened`) naming this head sha. At or
///    after the latest push of it (a re-push of an older commit arrives
///    anew), so it can only make a comment stale, never fresh.
/// 2. The repository activity API, for heads in the base repository (a
///    fork's pushes are not in the base repository's activity).
///
/// `None`: nothing on GitHub's side says when the head arrived, and
/// comment approvals are stale.
pub async fn head_pushed_at<C: GitHubReads>(
    client: &C,
    pull: &Pull,
    first_delivery: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<(chrono::DateTime<chrono::Utc>, PushTimeSource)>, GitHubError> {
    let from_activity = if pull.head_in_fork() {
        None
    } else {
        client
            .head_pushed_at(&pull.head.ref_name, &pull.head.sha)
            .await?
    };
    // Both known: the later one is the safer bound.
    Ok(match (from_activity, first_delivery) {
        (Some(a), Some(d)) if d > a => Some((d, PushTimeSource::FirstDelivery)),
        (Some(a), _) => Some((a, PushTimeSource::RepositoryActivity)),
        (None, Some(d)) => Some((d, PushTimeSource::FirstDelivery)),
        (None, None) => None,
    })
}

/// True when `login` is written as a user in every role of `severity` that
/// lists `team`.
fn direct_in_every_role_of(policy: &Policy, severity: &Severity, team: &str, login: &str) -> bool {
    severity
        .approvals
        .roles
        .iter()
        .filter_map(|role| policy.roles.get(role))
        .filter(|members| {
            members
                .iter()
                .any(|m| m.to_string().trim_start_matches('@') == team)
        })
        .all(|members| {
            members
                .iter()
                .any(|m| matches!(m, Member::User(u) if u.eq_ignore_ascii_case(login)))
        })
}

/// Release tags seen missing, remembered for a while: asking again on every
/// evaluation costs a call that almost always answers 404 again. A tag made
/// meanwhile is noticed within `TAG_TTL`. A bounded `moka` cache: past
/// `MAX_TAGS` (repository, tag) pairs the least used go first.
pub struct TagCache {
    absent: moka::sync::Cache<(String, String), ()>,
}

const TAG_TTL: Duration = Duration::from_secs(10 * 60);
const MAX_TAGS: u64 = 4_096;

impl Default for TagCache {
    fn default() -> Self {
        Self {
            absent: moka::sync::Cache::builder()
                .max_capacity(MAX_TAGS)
                .time_to_live(TAG_TTL)
                .build(),
        }
    }
}

impl TagCache {
    async fn sha<C: GitHubReads>(
        &self,
        client: &C,
        tag: &str,
    ) -> Result<Option<String>, GitHubError> {
        let key = (client.full_name(), tag.to_string());
        if self.absent.contains_key(&key) {
            return Ok(None);
        }
        let sha = client.tag_exists(tag).await?;
        if sha.is_none() {
            self.absent.insert(key, ());
        } else {
            self.absent.invalidate(&key);
        }
        Ok(sha)
    }
}

pub(super) fn base_facts<C: GitHubReads>(client: &C, pull: &Pull) -> PullRequestFacts {
    let state = if pull.is_merged() {
        PrState::Merged
    } else if pull.state == "closed" {
        PrState::Closed
    } else {
        PrState::Open
    };
    PullRequestFacts {
        repository: client.repo_name().to_string(),
        number: pull.number,
        title: pull.title.clone(),
        author: pull.author().to_string(),
        html_url: pull.html_url.clone(),
        state,
        draft: pull.draft,
        head_ref: pull.head.ref_name.clone(),
        head_sha: pull.head.sha.clone(),
        base_ref: pull.base.ref_name.clone(),
        base_sha: Some(pull.base.sha.clone()),
        created_at: pull.created_at.unwrap_or_default(),
        merged_at: pull.merged_at,
        merged_by: pull.merged_by.as_ref().map(|u| u.login.clone()),
        head_pushed_at: None,
        head_pushed_source: None,
        base_changed: rules::BaseChange::Never,
        totals: pull.totals(),
        labels: pull
            .labels
            .iter()
            .map(|l| Label {
                name: l.name.clone(),
                applied_by: None,
                applied_at: None,
            })
            .collect(),
        label_events: Vec::new(),
        reviews: Vec::new(),
        comments: Vec::new(),
        changed_files: None,
        files: BTreeMap::new(),
        existing_tags: Vec::new(),
        team_members: BTreeMap::new(),
        permissions: BTreeMap::new(),
        evidence: None,
    }
}

/// The latest retarget among `events` (`base_ref_changed`, GitHub's time),
/// or unknown when a list that may hold one was cut (`unknown`).
fn base_changed(events: &[crate::github::IssueEventInfo], unknown: bool) -> rules::BaseChange {
    let times: Vec<_> = events.iter().map(|e| e.created_at).collect();
    rules::BaseChange::latest(&times, unknown)
}
