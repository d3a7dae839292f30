//! What a Mastodon entity is rendered from: plain data the domain gathers (stored rows plus the
//! facts it computed for one viewer), and `convert/mastodon.rs` turns into JSON. Defined here,
//! beside their renderer, because convert never imports the domain; the domain fills them.

use crate::store::accounts::{AccountCounts, AccountRow};
use crate::store::directory::FeaturedTagRow;
use crate::store::media::MediaRow;
use crate::store::social::NotificationRow;
use crate::store::statuses::{StatusCounts, StatusRow};

/// An account with its counters.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub row: AccountRow,
    pub counts: AccountCounts,
}

/// A hashtag for one viewer: its spelling, whether they follow it, and its use per day (day
/// since the epoch, statuses, accounts), newest first.
#[derive(Debug, Clone)]
pub struct TagView {
    pub display: String,
    pub following: bool,
    pub history: Vec<(i64, i64, i64)>,
}

/// An announcement as one member sees it: whether they dismissed it, the reactions (with
/// whether they are among them), its hashtags.
#[derive(Debug, Clone)]
pub struct AnnouncementView {
    pub row: crate::store::announcements::AnnouncementRow,
    pub read: bool,
    pub reactions: Vec<crate::store::announcements::ReactionCount>,
    pub tags: Vec<String>,
}

/// One node's counts of an announcement (`node` empty: this node).
#[derive(Debug, Clone)]
pub struct NodeCountsView {
    pub node: String,
    pub name: String,
    pub counts: crate::store::announcements::Counts,
    pub updated_at: Option<i64>,
}

/// One of this node's announcements for its admins and communicators: per node and in total.
#[derive(Debug, Clone)]
pub struct AnnouncementStatsView {
    pub row: crate::store::announcements::AnnouncementRow,
    pub author: Option<AccountRow>,
    pub nodes: Vec<NodeCountsView>,
    pub total: crate::store::announcements::Counts,
}

/// A group hosted here: its account, who may post, its moderators with their role.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub account: AccountView,
    pub posting: String,
    pub moderators: Vec<(AccountView, String)>,
}

/// A featured hashtag with the account featuring it (its URL is under their profile).
#[derive(Debug, Clone)]
pub struct FeaturedTagView {
    pub tag: FeaturedTagRow,
    pub account: AccountRow,
}

/// The signed-in user's own account, with the number of follow requests waiting.
#[derive(Debug, Clone)]
pub struct CredentialView {
    pub account: AccountView,
    pub follow_requests_count: i64,
}

/// What the viewer did to a status.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewerMarks {
    pub favourited: bool,
    pub reblogged: bool,
    pub bookmarked: bool,
    /// Only for the viewer's own statuses (Mastodon leaves `pinned` out otherwise).
    pub pinned: Option<bool>,
    /// The viewer muted this status's thread (set on the status muted and the thread's root).
    pub muted: bool,
}

/// One status as one viewer sees it.
#[derive(Debug, Clone)]
pub struct StatusView {
    pub row: StatusRow,
    pub author: AccountRow,
    pub author_counts: AccountCounts,
    pub counts: StatusCounts,
    /// Attachments, mentioned accounts and hashtags (display form), in stored order.
    pub media: Vec<MediaRow>,
    pub mentions: Vec<AccountRow>,
    pub tags: Vec<String>,
    /// `None` when rendered for no signed-in viewer.
    pub marks: Option<ViewerMarks>,
    /// The status a reblog wraps.
    pub reblog: Option<Box<StatusView>>,
    /// The text as typed, set only for "delete and redraft".
    pub source_text: Option<String>,
    pub poll: Option<PollView>,
    /// The viewer's filters that matched it in the context it is shown in.
    pub filtered: Vec<FilterResultView>,
}

/// A filter that matched a status, and by what (Mastodon's FilterResult).
#[derive(Debug, Clone)]
pub struct FilterResultView {
    pub filter: crate::store::filters::FilterRow,
    pub keyword_matches: Vec<String>,
    pub status_matches: Vec<i64>,
}

/// A poll as one viewer sees it.
#[derive(Debug, Clone)]
pub struct PollView {
    pub row: crate::store::polls::PollRow,
    /// The answers the viewer chose (sorted), `None` with no signed-in viewer.
    pub own_votes: Option<Vec<i32>>,
    /// The viewer's own poll: its counts show even when hidden until the end.
    pub own_poll: bool,
}

/// A poll as an app asks for it (`poll[options][]`, `poll[expires_in]`, …), kept in Mastodon's
/// names because a scheduled status stores it as JSON.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct PollParams {
    pub options: Vec<String>,
    /// Seconds.
    pub expires_in: i64,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub hide_totals: bool,
}

/// A thread around a status: ancestors oldest first, then descendants.
#[derive(Debug, Clone, Default)]
pub struct ContextView {
    pub ancestors: Vec<StatusView>,
    pub descendants: Vec<StatusView>,
}

/// One version of a status, for its edit history.
#[derive(Debug, Clone)]
pub struct StatusEditView {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: i64,
    pub account: AccountView,
    pub media: Vec<MediaRow>,
}

/// What the author typed, for editing.
#[derive(Debug, Clone)]
pub struct StatusSourceView {
    pub id: i64,
    pub text: String,
    pub spoiler_text: String,
}

/// A notification with the account it is from and the status it is about.
#[derive(Debug, Clone)]
pub struct NotificationView {
    pub row: NotificationRow,
    pub account: AccountView,
    pub status: Option<StatusView>,
    /// The report an `admin.report` or `report_resolved` notification is about.
    pub report: Option<ReportView>,
    /// Its group in `/api/v2/notifications`.
    pub group_key: String,
}

/// One of the viewer's conversations (Mastodon's Conversation).
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub row: crate::store::conversations::ConversationRow,
    pub last_status: StatusView,
    /// The other participants.
    pub accounts: Vec<AccountView>,
}

/// One group of notifications on a page.
#[derive(Debug, Clone)]
pub struct NotificationGroup {
    pub key: String,
    pub kind: String,
    pub count: i64,
    pub most_recent_id: i64,
    pub page_min_id: i64,
    pub page_max_id: i64,
    pub latest_at: i64,
    /// The newest first, a few.
    pub sample_account_ids: Vec<i64>,
    pub status_id: Option<i64>,
    pub report: Option<ReportView>,
}

/// A page of grouped notifications with the accounts and statuses they name.
#[derive(Debug, Clone, Default)]
pub struct GroupedPage {
    pub groups: Vec<NotificationGroup>,
    pub accounts: Vec<AccountView>,
    pub statuses: Vec<StatusView>,
    pub keys: Option<(i64, i64)>,
}

/// A report as its reporter sees it.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub row: crate::store::reports::ReportRow,
    pub target: AccountView,
}

/// An account as moderators see it.
#[derive(Debug, Clone)]
pub struct AdminAccountView {
    pub account: AccountView,
    pub moderation: crate::store::reports::ModerationRow,
}

/// A report as moderators see it.
#[derive(Debug, Clone)]
pub struct AdminReportView {
    pub row: crate::store::reports::ReportRow,
    pub account: AdminAccountView,
    pub target: AdminAccountView,
    pub assigned: Option<AdminAccountView>,
    pub action_taken_by: Option<AdminAccountView>,
    pub statuses: Vec<StatusView>,
    /// The node's rules it names (number, text).
    pub rules: Vec<(usize, String)>,
}

/// The viewer's relation to one account.
#[derive(Debug, Clone, Copy, Default)]
pub struct RelationshipView {
    pub id: i64,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub followed_by: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub endorsed: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub domain_blocking: bool,
}

/// An access token just issued: the secret (shown once), its scopes and when it was made.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub scopes: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// What the instance endpoints describe: the node's name, its users, its contact and the limits
/// the domain enforces.
#[derive(Debug, Clone)]
pub struct InstanceView {
    pub title: String,
    pub users: i64,
    /// The first admin, whom apps show as the contact.
    pub contact: Option<AccountView>,
    pub limits: InstanceLimits,
    /// The node's rules, numbered from 1.
    pub rules: Vec<(usize, String)>,
}

/// The limits apps adapt their compose screens to.
#[derive(Debug, Clone)]
pub struct InstanceLimits {
    pub max_characters: usize,
    pub max_media_attachments: usize,
    pub media_types: &'static [&'static str],
    pub description_limit: usize,
    pub image_size_limit: usize,
    pub image_matrix_limit: u64,
    /// What a status gets when the app sends neither `local_only` nor `visibility: "local"`.
    pub default_local_only: bool,
    pub max_pinned_statuses: i64,
    pub poll_max_options: usize,
    pub poll_max_characters_per_option: usize,
    /// Seconds.
    pub poll_min_expiration: i64,
    pub poll_max_expiration: i64,
    /// The node's VAPID public key (Web Push).
    pub vapid_key: String,
}

/// One week of this node's own figures, for the insights page.
#[derive(Debug, Clone, Default)]
pub struct WeekSummary {
    /// The week's Monday, milliseconds.
    pub week: i64,
    pub label: String,
    pub active_users: i64,
    pub cross_node_active_users: i64,
    /// Interactions among this node's people.
    pub inside: i64,
    /// Interactions with other nodes' people, both ways.
    pub across: i64,
    /// (node, sent, received, shared groups) for each other node.
    pub peers: Vec<(String, i64, i64, i64)>,
}

/// The organisation's node × node matrix for a week: `cells[row][col]` is what the row's node
/// reported its people sent towards the column's (absent: no report, or below the threshold).
#[derive(Debug, Clone, Default)]
pub struct MatrixView {
    pub nodes: Vec<String>,
    /// Whether each row's node has reported the week.
    pub reported: Vec<bool>,
    pub cells: Vec<Vec<Option<i64>>>,
}

/// A hashtag across the organisation's aggregates.
#[derive(Debug, Clone, Default)]
pub struct RisingTag {
    pub name: String,
    pub uses: i64,
    pub accounts: i64,
    pub previous_uses: i64,
    /// The nodes that reported it this week.
    pub nodes: Vec<String>,
}

/// A group hosted here whose members are on more than one node: (node, members).
#[derive(Debug, Clone, Default)]
pub struct CrossNodeGroup {
    pub username: String,
    pub display_name: String,
    pub members: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Default)]
pub struct InsightsView {
    pub week: i64,
    pub label: String,
    /// This node's domain.
    pub own: String,
    pub threshold: i64,
    /// Oldest first.
    pub weeks: Vec<WeekSummary>,
    pub matrix: MatrixView,
    pub rising: Vec<RisingTag>,
    pub groups: Vec<CrossNodeGroup>,
}

/// One measure of the admin dashboard: a total over the range, the previous range's where
/// Mastodon gives one, and a value per day (day in milliseconds).
#[derive(Debug, Clone, Default)]
pub struct MeasureView {
    pub key: String,
    pub unit: Option<String>,
    pub total: i64,
    pub human_value: Option<String>,
    pub previous_total: Option<i64>,
    pub data: Vec<(i64, i64)>,
}

/// One dimension: (key, human key, value, human value) items, or text values (versions).
#[derive(Debug, Clone, Default)]
pub struct DimensionView {
    pub key: String,
    pub data: Vec<(String, String, i64, Option<String>)>,
    pub unit: Option<String>,
    pub text_values: Vec<(String, String, String)>,
}

/// A retention cohort: its period (milliseconds) and (period, rate, active members) after it.
#[derive(Debug, Clone, Default)]
pub struct RetentionView {
    pub period: i64,
    pub frequency: String,
    pub data: Vec<(i64, f64, i64)>,
}

/// A hashtag as the admin trends API shows it.
#[derive(Debug, Clone)]
pub struct AdminTagView {
    pub id: i64,
    pub tag: TagView,
}

/// What a scheduled status keeps of the request, in Mastodon's `params` names (stored as
/// JSON).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ScheduledParams {
    pub text: String,
    #[serde(default)]
    pub spoiler_text: String,
    #[serde(default)]
    pub sensitive: Option<bool>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub local_only: Option<bool>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub in_reply_to_id: Option<i64>,
    #[serde(default)]
    pub media_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollParams>,
}

/// A scheduled status as the API shows it.
#[derive(Debug, Clone)]
pub struct ScheduledView {
    pub row: crate::store::scheduled::ScheduledRow,
    pub params: ScheduledParams,
    pub media: Vec<MediaRow>,
}

/// A user's notification policy, with what waits in its requests.
#[derive(Debug, Clone)]
pub struct NotificationPolicyView {
    pub row: crate::store::notification_policy::NotificationPolicyRow,
    pub pending_requests: i64,
    pub pending_notifications: i64,
}

/// A notification request: the sender and their latest status.
#[derive(Debug, Clone)]
pub struct NotificationRequestView {
    pub row: crate::store::notification_policy::NotificationRequestRow,
    pub account: AccountView,
    pub last_status: Option<StatusView>,
}
