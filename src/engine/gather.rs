//! Facts about one pull request, read from GitHub: only what the rules that
//! apply need (a pull request that is not a hotfix costs one call here).
//! Requests go one after another, as GitHub asks of integrations.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::events::PullPayload;
use crate::github::{CommentInfo, GitHubError, RepoClient};
use crate::policy::{Member, Policy, Severity};
use crate::rules::{
    self, ChangedFile, Classification, Comment, FileAtRefs, Label, LabelEvent, Permission, PrState,
    PullRequestFacts, PushTimeSource, Review, ReviewState,
};

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

pub async fn facts(
    client: &RepoClient,
    tags: &TagCache,
    policy: &Policy,
    classification: &Classification<'_>,
    pull: &PullPayload,
    head_last_received: Option<chrono::DateTime<chrono::Utc>>,
    designation: Designation,
) -> Result<Gathered, GitHubError> {
    let severity = match classification {
        Classification::NotHotfix => None,
        Classification::Hotfix { severity, .. } => *severity,
    };
    let number = pull.number;
    let mut facts = base_facts(client, pull);
    facts.permissions = designation.permissions;
    let changed_files: Vec<ChangedFile> = client
        .list_pull_files(number)
        .await?
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
        facts.totals = PullPayload::from(client.get_pull(number).await?).totals();
    }
    let files_complete = rules::hygiene::list_is_complete(&changed_files, facts.totals);
    // The one timeline call (read before classifying) gives the comments
    // (the sticky one, approval commands), the reviews and who set or
    // removed which label.
    let timeline = designation.timeline;
    let cut = designation.cut;
    facts.label_events = designation.label_events;
    // A cut events list may hide a later close by someone else: who closed
    // it last is then unknown (escalation continues).
    let events_cut = rules::verdict::events_cut(&cut);
    let closed_by = timeline
        .state_events
        .iter()
        .rev()
        .find(|e| e.event == "closed")
        .filter(|_| !events_cut)
        .map(|e| {
            (
                e.actor.clone().unwrap_or_else(|| "ghost".to_string()),
                e.created_at,
            )
        });
    if matches!(classification, Classification::NotHotfix) {
        return Ok(Gathered {
            facts,
            comments: Vec::new(),
            changed_files,
            files_complete,
            closed_by,
            cut,
        });
    }
    let comments = timeline.comments;
    for label in &mut facts.labels {
        // The latest `labeled` event says who applied it and when.
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
    let Some(severity) = severity else {
        return Ok(Gathered {
            facts,
            comments,
            changed_files,
            files_complete,
            closed_by,
            cut,
        });
    };
    let needs = rules::needs(policy, severity);
    facts.changed_files = Some(changed_files.clone());
    facts.comments = comments
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
        .collect();
    if needs.reviews {
        facts.reviews = timeline
            .reviews
            .into_iter()
            .map(|r| Review {
                id: r.id,
                not_a_person: r.user_type != "User",
                user: r.user,
                state: ReviewState::from_api(&r.state),
                commit_id: r.commit_id,
                submitted_at: r.submitted_at,
                html_url: r.html_url,
            })
            .collect();
    }
    if !facts.comments.is_empty() && policy.approvals.dismiss_stale {
        // An approval by comment holds for the head commit at that moment:
        // it needs the server's time of the push that made the head.
        let pushed = head_pushed_at(client, pull, head_last_received).await?;
        facts.head_pushed_at = pushed.map(|(at, _)| at);
        facts.head_pushed_source = pushed.map(|(_, source)| source);
    }
    for path in &needs.version_files {
        let base = match &facts.base_sha {
            Some(sha) => client.get_file(path, Some(sha.as_str())).await?,
            None => None,
        };
        let head = client.get_file(path, Some(facts.head_sha.as_str())).await?;
        facts.files.insert(path.clone(), FileAtRefs { base, head });
    }
    // Who could fill a role or count: reviewers and commenters, which
    // anyone can be (throw-away accounts included). What they cost is
    // bounded by the policy, never by how many there are: past
    // `PER_PERSON` people, one listing per team (and one of the writers)
    // replaces a call per person.
    let deciders = rules::deciders(policy, &facts);
    let mut team_members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Named users already give each decider a role of their own: no team
    // can fill more (the teams are recorded as looked up, with no one).
    let teams_matter = !rules::direct_roles_cover(policy, severity, &deciders);
    for (org, slug) in &needs.teams {
        if !teams_matter {
            team_members.entry(format!("{org}/{slug}")).or_default();
            continue;
        }
        let team = format!("{org}/{slug}");
        // Someone named directly in every role this team belongs to
        // gains nothing from team membership: not looked up.
        let wanted: Vec<&String> = deciders
            .iter()
            .filter(|login| !direct_in_every_role_of(policy, severity, &team, login))
            .collect();
        let members = team_members.entry(team.clone()).or_default();
        if wanted.len() > PER_PERSON {
            let listed = client.list_team_members(org, slug).await?;
            members.extend(
                wanted
                    .into_iter()
                    .filter(|login| listed.iter().any(|m| m.eq_ignore_ascii_case(login)))
                    .cloned(),
            );
            continue;
        }
        for login in wanted {
            if client.team_membership(org, slug, login).await? {
                members.push(login.clone());
            }
        }
    }
    facts.team_members = team_members;
    // Write access decides who set the severity (label appliers), who
    // counts toward `count`, and whether a role holder's approval counts
    // (a role member who lost write access does not): only people in a
    // role are looked up for that, so throw-away accounts cost nothing.
    let mut by_person = rules::label_appliers(severity, &facts);
    let mut approvers = rules::role_holders(policy, severity, &facts);
    if needs.permissions_for_count {
        for login in &deciders {
            rules::push_unique_login(&mut approvers, login);
        }
    }
    approvers.retain(|login| {
        rules::members_permission(&facts.permissions, login).is_none()
            && !by_person.iter().any(|l| l.eq_ignore_ascii_case(login))
    });
    if approvers.len() > PER_PERSON {
        let writers = client.list_writers().await?;
        for login in approvers {
            let permission = if writers.iter().any(|w| w.eq_ignore_ascii_case(&login)) {
                Permission::Write
            } else {
                Permission::None
            };
            facts.permissions.insert(login, permission);
        }
    } else {
        by_person.extend(approvers);
    }
    for login in &by_person {
        // Already read for this evaluation (a label's remover or applier).
        if rules::members_permission(&facts.permissions, login).is_some() {
            continue;
        }
        let permission = client.collaborator_permission(login).await?;
        facts
            .permissions
            .insert(login.clone(), Permission::from_api(&permission));
    }
    if let Some(tag) = rules::expected_tag(policy, &facts) {
        // A tag at the merge commit is this hotfix's own release (made after
        // the merge), not an earlier one.
        match tags.sha(client, &tag).await? {
            Some(sha) if Some(&sha) != pull.merge_commit_sha.as_ref() => {
                facts.existing_tags.push(tag);
            }
            _ => {}
        }
    }
    facts.evidence = super::evidence::gather(
        client,
        &policy.evidence.for_severity(&severity.name),
        &facts.head_sha,
    )
    .await?;
    Ok(Gathered {
        facts,
        comments,
        changed_files,
        files_complete,
        closed_by,
        cut,
    })
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
}

/// Reads the timeline and the permissions a designation label's removal
/// depends on. Costs the timeline (every page, up to the cap) and one
/// permission call per remover or applier of a removed designation label,
/// none when nothing was removed; a timeline cut at the cap (more than
/// 10,000 items, which anyone who can comment can cause) costs the issue
/// events and the reviews lists too.
pub async fn designation(
    client: &RepoClient,
    policy: &Policy,
    pull: &PullPayload,
) -> Result<Designation, GitHubError> {
    let mut timeline = client.timeline(pull.number).await?;
    let mut cut = Vec::new();
    if let Some(items) = timeline.cut_after {
        cut.push(rules::verdict::CutList::Timeline { items });
        // Comments posted in bulk push the label events past the cut; the
        // events list has no comments, so who set the severity (and so its
        // deadline) is still known.
        let events = client.issue_events(pull.number).await?;
        timeline.label_events = events.label_events;
        timeline.state_events = events.state_events;
        if let Some(items) = events.cut_after {
            cut.push(rules::verdict::CutList::Events { items });
        }
        // Reviews too: a review can block (changes requested) and approves
        // without a comment, so approvals by review still work.
        let (reviews, reviews_cut) = client.list_reviews(pull.number).await?;
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
        let unseen = rules::designation::unseen_removals(policy, &current, &label_events, cut_at);
        label_events.extend(unseen);
    }
    let mut permissions = BTreeMap::new();
    for login in rules::designation::logins_to_check(policy, &current, &label_events) {
        if login == rules::designation::UNSEEN_REMOVER {
            continue;
        }
        let permission = client.collaborator_permission(&login).await?;
        permissions.insert(login, Permission::from_api(&permission));
    }
    let labels = rules::verdict::effective_labels(policy, &current, &label_events, &permissions);
    Ok(Designation {
        timeline,
        label_events,
        permissions,
        labels,
        cut,
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
                actor: e.actor.clone().unwrap_or_else(|| "ghost".to_string()),
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
pub async fn head_pushed_at(
    client: &RepoClient,
    pull: &PullPayload,
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
/// meanwhile is noticed within `TAG_TTL`.
#[derive(Default)]
pub struct TagCache {
    absent: Mutex<HashMap<(String, String), Instant>>,
}

const TAG_TTL: Duration = Duration::from_secs(10 * 60);
const MAX_TAGS: usize = 4_096;

impl TagCache {
    async fn sha(&self, client: &RepoClient, tag: &str) -> Result<Option<String>, GitHubError> {
        let key = (client.full_name(), tag.to_string());
        {
            let absent = self.absent.lock().unwrap_or_else(|p| p.into_inner());
            if absent.get(&key).is_some_and(|at| at.elapsed() < TAG_TTL) {
                return Ok(None);
            }
        }
        let sha = client.tag_exists(tag).await?;
        let mut absent = self.absent.lock().unwrap_or_else(|p| p.into_inner());
        if sha.is_none() {
            if absent.len() >= MAX_TAGS {
                absent.clear();
            }
            absent.insert(key, Instant::now());
        } else {
            absent.remove(&key);
        }
        Ok(sha)
    }
}

fn base_facts(client: &RepoClient, pull: &PullPayload) -> PullRequestFacts {
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
