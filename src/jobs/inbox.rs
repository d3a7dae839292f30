//! The inbox worker: acts on the activities the inbox accepted (`inbox_jobs`), so a peer
//! delivering to us never waits for what acting needs (fetching a parent, an announced note, an
//! actor). A job that fails for a reason that may pass is retried with exponential backoff up
//! to `federation.inbox_max_attempts`; on the last attempt a reply whose parent still cannot be
//! fetched is stored without it. A job refused for good (a Like of a status we do not hold, an
//! Undo of something not ours) is dropped with a log line saying why.
//!
//! The queue lives in the database: what is queued when the node stops is processed after the
//! next start. Jobs are claimed with a lease (see
//! [`Store::claim_inbox_jobs`](crate::store::Store::claim_inbox_jobs)), so several processes
//! on one PostgreSQL never work on the same job, and a job of a process that died becomes due
//! again once its lease ends.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::domain::federation::fed::{HandedOver, INBOX_LEASE_MS};
use crate::domain::inbox::{receive, MissingParent};
use crate::domain::{DomainError, Node};
use crate::jobs::delivery::backoff_ms;
use crate::store::accounts::AccountRow;
use crate::store::inbox::InboxJob;
use crate::store::now_millis;

/// How often the queue is checked without being woken (retries falling due, other processes
/// on the same database).
const POLL: Duration = Duration::from_secs(1);
/// Jobs processed at once.
const CONCURRENCY: usize = 8;
/// Jobs claimed from the database at once: one write for many jobs.
const CLAIM_BATCH: usize = 32;
/// Finished jobs are removed together once this many wait, or after `DONE_DELAY`, or when the
/// worker falls idle: one write for many jobs. Should the process die before, they are done
/// again after their lease, which receiving tolerates (a note stored twice is stored once).
const DONE_BATCH: usize = 32;
const DONE_DELAY: Duration = Duration::from_millis(100);
/// Longest one job may take (a chain of fetches, each bounded by `federation.timeout_seconds`);
/// then it counts as a failure that may pass.
const JOB_TIMEOUT: Duration = Duration::from_secs(4 * 60);
/// How long a stop waits for jobs in flight before leaving them to the next start.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Jobs this worker holds and has not finished: id → attempts before this one, to give them
/// back on a stop.
type Held = Arc<Mutex<HashMap<i64, i64>>>;
/// Finished jobs waiting to be removed from the queue.
type Finished = Arc<Mutex<Vec<i64>>>;

/// A job to work on, with the parsed activity and its signer when the inbox handed them over.
struct Work {
    job: InboxJob,
    ready: Option<(Value, AccountRow)>,
}

impl From<InboxJob> for Work {
    fn from(job: InboxJob) -> Work {
        Work { job, ready: None }
    }
}

impl From<HandedOver> for Work {
    fn from(h: HandedOver) -> Work {
        Work {
            job: h.job,
            ready: Some((h.activity, h.signer)),
        }
    }
}

/// Runs until `stop` turns true. Jobs come from the inbox's hand-off (queued leased for this
/// worker) and, after a wake-up or a poll, from the database (due jobs: retries, a full
/// hand-off, another process's expired leases). On a stop, jobs in flight get a few seconds to
/// finish; those that do not, and those not started, are given back to the queue, due at once.
pub async fn run(node: Node, mut stop: watch::Receiver<bool>) {
    let mut handoff = node.fed.inbox.take_receiver();
    let held: Held = Default::default();
    let finished: Finished = Default::default();
    let mut waiting: VecDeque<Work> = VecDeque::new();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut claim_due = true;
    // Kept across turns of the loop, so a busy worker still looks for due jobs.
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // When the oldest finished job not yet removed must be removed.
    let mut remove_by: Option<tokio::time::Instant> = None;
    loop {
        while tasks.try_join_next().is_some() {}
        if *stop.borrow() {
            break;
        }
        if claim_due && waiting.is_empty() {
            let now = now_millis();
            match node
                .store
                .claim_inbox_jobs(now, now + INBOX_LEASE_MS, CLAIM_BATCH as i64)
                .await
            {
                Ok(jobs) => {
                    // A full batch may leave more due: claim again once these are started.
                    claim_due = jobs.len() == CLAIM_BATCH;
                    waiting.extend(jobs.into_iter().map(Work::from));
                }
                Err(e) => {
                    claim_due = false;
                    tracing::error!(error = %e, "cannot read the inbox queue; will retry")
                }
            }
        }
        while tasks.len() < CONCURRENCY {
            let next = match waiting.pop_front() {
                Some(job) => Some(job),
                None => handoff
                    .as_mut()
                    .and_then(|rx| rx.try_recv().ok())
                    .map(Work::from),
            };
            let Some(job) = next else { break };
            start(&node, job, &held, &finished, &mut tasks);
        }
        let pending = lock(&finished).len();
        let overdue = remove_by.is_some_and(|t| t <= tokio::time::Instant::now());
        if pending >= DONE_BATCH || (pending > 0 && (tasks.is_empty() || overdue)) {
            let done = std::mem::take(&mut *lock(&finished));
            remove_finished(&node, &done).await;
            remove_by = None;
        } else if pending > 0 && remove_by.is_none() {
            remove_by = Some(tokio::time::Instant::now() + DONE_DELAY);
        }
        let room = tasks.len() < CONCURRENCY;
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = node.fed.inbox.wake.notified() => claim_due = true,
            _ = poll.tick() => claim_due = true,
            Some(handed) = recv(&mut handoff), if room && waiting.is_empty() => {
                start(&node, handed.into(), &held, &finished, &mut tasks);
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {},
            _ = tokio::time::sleep_until(remove_by.unwrap_or_else(tokio::time::Instant::now)), if remove_by.is_some() => {},
        }
    }
    // Nothing more is handed over: the inbox queues due jobs from now on.
    if let Some(rx) = handoff.as_mut() {
        rx.close();
        while let Ok(handed) = rx.try_recv() {
            waiting.push_back(handed.into());
        }
    }
    if !tasks.is_empty() {
        tracing::info!(
            in_flight = tasks.len(),
            "finishing incoming activities in flight before stopping"
        );
    }
    let finish = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(STOP_GRACE, finish).await.is_err() {
        tasks.shutdown().await;
    }
    let done = std::mem::take(&mut *lock(&finished));
    remove_finished(&node, &done).await;
    let mut left: Vec<(i64, i64)> = lock(&held).drain().collect();
    left.extend(waiting.iter().map(|w| (w.job.id, w.job.attempts)));
    for (id, attempts) in &left {
        if let Err(e) = node
            .store
            .reschedule_inbox_job(*id, *attempts, now_millis(), None)
            .await
        {
            tracing::error!(error = %e, "cannot give an unfinished incoming activity back to the queue; it is due again when its lease ends");
        }
    }
    match node.store.inbox_queue_depth().await {
        Ok(0) | Err(_) => {}
        Ok(queued) => tracing::info!(
            queued,
            "incoming activities left queued; processed after the next start"
        ),
    }
}

async fn recv(handoff: &mut Option<mpsc::Receiver<HandedOver>>) -> Option<HandedOver> {
    match handoff {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn start(node: &Node, work: Work, held: &Held, finished: &Finished, tasks: &mut JoinSet<()>) {
    lock(held).insert(work.job.id, work.job.attempts);
    let (node, held, finished) = (node.clone(), held.clone(), finished.clone());
    tasks.spawn(async move {
        let id = work.job.id;
        let remove = process(&node, work).await;
        lock(&held).remove(&id);
        if remove {
            lock(&finished).push(id);
        }
    });
}

async fn remove_finished(node: &Node, ids: &[i64]) {
    if let Err(e) = node.store.inbox_jobs_done(ids).await {
        tracing::error!(error = %e, "cannot remove processed activities from the inbox queue; they will be processed again");
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What became of one attempt at a job.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done,
    Retry,
    Drop,
}

/// Whether a failed attempt is tried again: only a failure that may pass, and attempts left.
fn outcome(result: &Result<(), DomainError>, attempts: i64, max_attempts: u32) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        Err(e) if e.is_transient() && attempts < i64::from(max_attempts) => Outcome::Retry,
        Err(_) => Outcome::Drop,
    }
}

/// Works on one job; `true` when it is finished (done or dropped) and may be removed.
async fn process(node: &Node, work: Work) -> bool {
    let job = work.job;
    let cfg = &node.config.federation;
    let attempts = job.attempts + 1;
    let (activity, signer) = match work.ready {
        Some((activity, signer)) => (activity, Ok(Some(signer))),
        None => match serde_json::from_str::<Value>(&job.body) {
            Ok(v) => (v, node.store.account_by_id(job.signer_id).await),
            Err(e) => {
                tracing::error!(activity = %job.activity_id, error = %e, "dropping a queued activity that does not parse");
                return true;
            }
        },
    };
    let kind = fika_federation::activities::type_of(&activity).unwrap_or("?");
    let actor = activity
        .get("actor")
        .and_then(fika_federation::activities::id_of)
        .unwrap_or("?");
    let result = match signer {
        Ok(Some(signer)) if !node.fed.net.allows(&signer.domain) => Err(DomainError::Invalid(
            format!("{} is no longer allowed to federate", signer.domain),
        )),
        Ok(Some(signer)) => {
            // The last attempt keeps a reply whose parent cannot be fetched, without the link.
            let missing = if attempts >= i64::from(cfg.inbox_max_attempts) {
                MissingParent::Skip
            } else {
                MissingParent::Retry
            };
            tokio::time::timeout(JOB_TIMEOUT, receive(node, &signer, &activity, missing))
                .await
                .unwrap_or_else(|_| {
                    Err(DomainError::Unavailable(format!(
                        "processing took longer than {} s",
                        JOB_TIMEOUT.as_secs()
                    )))
                })
        }
        Ok(None) => Err(DomainError::NotFound("signing account")),
        Err(e) => Err(e.into()),
    };
    match outcome(&result, attempts, cfg.inbox_max_attempts) {
        Outcome::Done => {
            tracing::info!(activity = %job.activity_id, kind = %kind, actor = %actor, attempts, "received");
            true
        }
        Outcome::Retry => {
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            let next = now_millis() + backoff_ms(cfg.inbox_retry_base_seconds, job.attempts);
            tracing::info!(activity = %job.activity_id, kind = %kind, actor = %actor, attempts, error = %error, "processing an incoming activity failed; will retry");
            if let Err(e) = node
                .store
                .reschedule_inbox_job(job.id, attempts, next, Some(&error))
                .await
            {
                tracing::error!(error = %e, "cannot reschedule an incoming activity; it is due again when its lease ends");
            }
            false
        }
        Outcome::Drop => {
            match result.err() {
                Some(e) if e.is_transient() => {
                    tracing::warn!(activity = %job.activity_id, kind = %kind, actor = %actor, attempts, error = %e, "incoming activity given up after its last attempt");
                }
                e => {
                    let error = e.map(|e| e.to_string()).unwrap_or_default();
                    tracing::info!(activity = %job.activity_id, kind = %kind, actor = %actor, attempts, error = %error, "activity refused");
                }
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_that_may_pass_are_retried_while_attempts_remain() {
        let transient = || Err(DomainError::Unavailable("timed out".into()));
        assert_eq!(outcome(&Ok(()), 1, 8), Outcome::Done);
        assert_eq!(outcome(&transient(), 1, 8), Outcome::Retry);
        assert_eq!(outcome(&transient(), 7, 8), Outcome::Retry);
        assert_eq!(outcome(&transient(), 8, 8), Outcome::Drop);
        assert_eq!(
            outcome(&Err(DomainError::NotFound("status")), 1, 8),
            Outcome::Drop
        );
        assert_eq!(
            outcome(&Err(DomainError::Invalid("not ours".into())), 1, 8),
            Outcome::Drop
        );
    }
}
